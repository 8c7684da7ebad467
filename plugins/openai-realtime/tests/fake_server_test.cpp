// The fake itself must refuse what OpenAI refuses, or the plugin's tests prove nothing: a raw WebSocket client sends
// it beta-shaped and malformed events.
#include <gtest/gtest.h>

#include "concierge/net/asio.hpp"
#include "concierge_fakes/fake_openai_server.hpp"

namespace concierge::fakes {
namespace {

using namespace concierge::net;
using namespace std::chrono_literals;
using nlohmann::json;

class RawClient {
 public:
  explicit RawClient(const FakeOpenAIServer& fake, bool beta_header = false, std::string key = "sk-test-key")
      : ws_(io_) {
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), fake.port()));
    ws_.set_option(websocket::stream_base::decorator([=](websocket::request_type& r) {
      r.set(http::field::authorization, "Bearer " + key);
      if (beta_header) r.set("OpenAI-Beta", "realtime=v1");
    }));
    // Asynchronous: Boost 1.74's synchronous handshake leaves the response of a declined upgrade empty.
    ws_.async_handshake(response_, "127.0.0.1", "/v1/realtime?model=gpt-realtime",
                        [this](beast::error_code ec) { handshake_error_ = ec; });
    io_.run_for(5s);
    if (!handshake_error_) {
      EXPECT_EQ(next()["type"], "session.created");
    }
  }
  beast::error_code handshake_error() const { return handshake_error_; }
  unsigned status() const { return response_.result_int(); }
  std::string body() const { return response_.body(); }

  void send(const std::string& text) { ws_.write(asio::buffer(text)); }
  // The next server event, or null after 5 s.
  json next() {
    json out;
    beast::flat_buffer buffer;
    ws_.async_read(buffer, [&](beast::error_code ec, std::size_t) {
      if (!ec) out = json::parse(beast::buffers_to_string(buffer.data()));
    });
    io_.restart();
    io_.run_for(5s);
    return out;
  }
  json next_of(const std::string& type) {
    for (int i = 0; i < 50; ++i) {
      json e = next();
      if (e.is_null() || e["type"] == type) return e;
    }
    return nullptr;
  }

 private:
  asio::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type response_;
  beast::error_code handshake_error_;
};

json ga_session() {
  return {{"type", "realtime"},
          {"output_modalities", {"audio"}},
          {"audio",
           {{"input", {{"format", {{"type", "audio/pcmu"}}}, {"turn_detection", {{"type", "server_vad"}}}}},
            {"output", {{"format", {{"type", "audio/pcmu"}}}, {"voice", "alloy"}}}}}};
}

TEST(FakeOpenAI, AcceptsTheGaSessionUpdate) {
  FakeOpenAIServer fake({});
  RawClient client(fake);
  client.send(json{{"type", "session.update"}, {"event_id", "e1"}, {"session", ga_session()}}.dump());
  const json updated = client.next_of("session.updated");
  ASSERT_FALSE(updated.is_null());
  EXPECT_EQ(updated["session"]["audio"]["input"]["format"]["type"], "audio/pcmu");
  EXPECT_TRUE(fake.errors_sent().empty());
}

TEST(FakeOpenAI, RefusesTheBetaSessionShape) {
  FakeOpenAIServer fake({});
  RawClient client(fake);
  client.send(json{{"type", "session.update"},
                   {"event_id", "beta1"},
                   {"session",
                    {{"modalities", {"text", "audio"}},
                     {"input_audio_format", "g711_ulaw"},
                     {"output_audio_format", "g711_ulaw"},
                     {"voice", "alloy"}}}}
                  .dump());
  const json error = client.next_of("error");
  ASSERT_FALSE(error.is_null());
  EXPECT_EQ(error["error"]["type"], "invalid_request_error");
  EXPECT_EQ(error["error"]["code"], "unknown_parameter");
  EXPECT_EQ(error["error"]["event_id"], "beta1");
  EXPECT_TRUE(error["error"]["param"].get<std::string>().starts_with("session."));
  EXPECT_FALSE(fake.session());

  client.send(json{{"type", "session.update"}, {"session", {{"instructions", "hi"}}}}.dump());
  EXPECT_EQ(client.next_of("error")["error"]["param"], "session.type");
  client.send(json{{"type", "session.update"},
                   {"session", {{"type", "realtime"}, {"audio", {{"input", {{"format", {{"type", "g711_ulaw"}}}}}}}}}}
                  .dump());
  EXPECT_EQ(client.next_of("error")["error"]["param"], "session.audio.input.format.type");
}

TEST(FakeOpenAI, AnswersMalformedClientEventsWithErrors) {
  FakeOpenAIServer fake({});
  RawClient client(fake);
  client.send("{nope");
  EXPECT_EQ(client.next_of("error")["error"]["code"], "invalid_json");
  client.send(R"({"event_id":"x"})");
  EXPECT_EQ(client.next_of("error")["error"]["code"], "missing_required_parameter");
  client.send(R"({"type":"response.audio.delta"})");
  EXPECT_EQ(client.next_of("error")["error"]["code"], "invalid_value");
  client.send(R"({"type":"input_audio_buffer.append","audio":"not base64!"})");
  EXPECT_EQ(client.next_of("error")["error"]["param"], "audio");
  client.send(R"({"type":"conversation.item.truncate","item_id":"item_404","content_index":0,"audio_end_ms":10})");
  EXPECT_EQ(client.next_of("error")["error"]["param"], "item_id");
  client.send(R"({"type":"response.cancel"})");
  EXPECT_EQ(client.next_of("error")["error"]["code"], "response_cancel_not_active");
  client.send(R"({"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"c","output":"{}"}})");
  EXPECT_EQ(client.next_of("error")["error"]["param"], "item.call_id");
  EXPECT_EQ(fake.errors_sent().size(), 7u);
}

TEST(FakeOpenAI, RefusesTheBetaHeaderAndABadKey) {
  FakeOpenAIServer fake({});
  {
    RawClient client(fake, /*beta_header=*/true);
    EXPECT_EQ(client.handshake_error(), websocket::error::upgrade_declined);
    EXPECT_EQ(client.status(), 400u);
    EXPECT_NE(client.body().find("beta_api_shape_disabled"), std::string::npos);
  }
  {
    RawClient client(fake, false, "sk-wrong");
    EXPECT_EQ(client.status(), 401u);
    EXPECT_NE(client.body().find("invalid_api_key"), std::string::npos);
  }
  EXPECT_EQ(fake.upgrades_refused(), 2);
  EXPECT_EQ(fake.connections(), 0);
  EXPECT_EQ(fake.upgrade_headers("openai-beta"), (std::vector<std::string>{"realtime=v1", ""}));
}

TEST(FakeOpenAI, TruncatePastTheEndOfTheAudioIsRefused) {
  FakeOpenAIOptions options;
  options.script.steps = {step::agent_says("Hello.", 500)};
  FakeOpenAIServer fake(options);
  RawClient client(fake);
  client.send(json{{"type", "session.update"}, {"session", ga_session()}}.dump());
  const json delta = client.next_of("response.output_audio.delta");
  ASSERT_FALSE(delta.is_null());
  const std::string item = delta["item_id"];
  ASSERT_FALSE(client.next_of("response.done").is_null());
  client.send(json{{"type", "conversation.item.truncate"}, {"item_id", item}, {"content_index", 0},
                   {"audio_end_ms", 501}}
                  .dump());
  const json error = client.next_of("error");
  EXPECT_EQ(error["error"]["param"], "audio_end_ms");
  client.send(json{{"type", "conversation.item.truncate"}, {"item_id", item}, {"content_index", 0},
                   {"audio_end_ms", 500}}
                  .dump());
  EXPECT_EQ(client.next_of("conversation.item.truncated")["audio_end_ms"], 500);
}

}  // namespace
}  // namespace concierge::fakes
