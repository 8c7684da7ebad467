// The fake Realtime server's echo mode (FakeScript::echo_audio), which concierge-bench's openai-realtime mode relies
// on: nothing is echoed before a session exists; after it, each append comes straight back as a delta with the same
// audio, inside one response and item announced once; bad base64 is still an error.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/net/asio.hpp"
#include "concierge_fakes/fake_openai_server.hpp"

namespace {
using namespace concierge::net;
using nlohmann::json;
using concierge::fakes::FakeOpenAIOptions;
using concierge::fakes::FakeOpenAIServer;

class EchoClient {
 public:
  explicit EchoClient(std::uint16_t port) : ws_(io_) {
    tcp::resolver resolver(io_);
    ws_.next_layer().connect(resolver.resolve("127.0.0.1", std::to_string(port)));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& r) { r.set(http::field::authorization, "Bearer sk-echo"); }));
    ws_.handshake("127.0.0.1", "/v1/realtime?model=gpt-realtime");
    ws_.next_layer().expires_after(std::chrono::seconds(5));
  }
  void send(const json& event) { ws_.write(asio::buffer(event.dump())); }
  json read() {
    beast::flat_buffer buffer;
    ws_.read(buffer);
    return json::parse(beast::buffers_to_string(buffer.data()));
  }
  json read_until(const std::string& type, std::vector<std::string>* seen = nullptr) {
    for (;;) {
      json e = read();
      if (seen) seen->push_back(e.value("type", ""));
      if (e.value("type", "") == type) return e;
    }
  }

 private:
  asio::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
};

json append(const std::string& base64_audio) {
  return {{"type", "input_audio_buffer.append"}, {"audio", base64_audio}};
}

json pcmu_session() {
  return {{"type", "session.update"},
          {"session",
           {{"type", "realtime"},
            {"model", "gpt-realtime"},
            {"output_modalities", {"audio"}},
            {"audio", {{"input", {{"format", {{"type", "audio/pcmu"}}}}}, {"output", {{"format", {{"type", "audio/pcmu"}}}}}}}}}};
}

TEST(FakeOpenAIEchoMode, EchoesEveryAppendInOneResponseAfterTheSessionIsConfigured) {
  FakeOpenAIOptions options;
  options.api_key = "sk-echo";
  options.script.echo_audio = true;
  FakeOpenAIServer server(options);
  EchoClient client(server.port());
  EXPECT_EQ(client.read()["type"], "session.created");

  client.send(append("AAAA"));  // before the session: counted, not echoed
  client.send(pcmu_session());
  EXPECT_EQ(client.read()["type"], "session.updated");  // and no delta came before it

  const std::vector<std::string> frames = {"f39/f39/f38=", "AQIDBAUG", "//79/Pv6"};
  std::vector<std::string> seen;
  std::vector<std::string> responses, items;
  for (const auto& audio : frames) {
    client.send(append(audio));
    const json delta = client.read_until("response.output_audio.delta", &seen);
    EXPECT_EQ(delta["delta"], audio);  // the same audio, the same encoding: pcmu in, pcmu out
    responses.push_back(delta["response_id"]);
    items.push_back(delta["item_id"]);
  }
  EXPECT_EQ(responses, std::vector<std::string>(3, responses[0]));
  EXPECT_EQ(items, std::vector<std::string>(3, items[0]));
  // The response and its item were announced once, before the first delta.
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "response.created"), 1);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "response.output_item.added"), 1);
  EXPECT_EQ(seen[0], "response.created");
  EXPECT_EQ(seen.size(), 2u + 2u + 3u);  // created, item added, conversation item, content part, three deltas

  client.send(append("not base64!"));
  const json error = client.read();
  EXPECT_EQ(error["type"], "error");
  EXPECT_EQ(error["error"]["param"], "audio");
  EXPECT_EQ(server.audio_bytes_received(), 3u + 8u + 6u + 6u);
  // Appends are not logged one by one in echo mode (a long run would grow the log); only the refused one is.
  EXPECT_EQ(server.client_events("input_audio_buffer.append").size(), 1u);
}

}  // namespace
