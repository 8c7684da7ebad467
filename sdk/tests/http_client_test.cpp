// The SDK's HttpClient (libcurl multi on an Asio loop) against loopback HTTP responders over real sockets.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include <boost/asio/io_context.hpp>

#include "concierge/base64.hpp"
#include "concierge/http_client.hpp"
#include "raw_socket.hpp"

namespace concierge {
namespace {
using namespace std::chrono_literals;
using testing::CannedHttpServer;
using Clock = std::chrono::steady_clock;

class HttpClientTest : public ::testing::Test {
 protected:
  // Runs the loop until `response` is set or `limit` passes.
  bool run_until(const std::optional<HttpClientResponse>& response, std::chrono::milliseconds limit = 5000ms) {
    const auto deadline = Clock::now() + limit;
    while (!response && Clock::now() < deadline) {
      io.restart();
      io.run_for(10ms);
    }
    return response.has_value();
  }
  HttpClientRequest get(const std::string& url) {
    HttpClientRequest request;
    request.url = url;
    request.timeout = 5000ms;
    return request;
  }

  boost::asio::io_context io;
  std::unique_ptr<HttpClient> client = make_http_client(io);
};

TEST_F(HttpClientTest, GetAnswersOnTheLoopAfterStartReturned) {
  CannedHttpServer server(200, R"({"ok":true})");
  std::optional<HttpClientResponse> response;
  client->start(get(server.base_url() + "/things?x=1"), [&](const HttpClientResponse& r) { response = r; });
  EXPECT_FALSE(response);  // never inside start()
  EXPECT_EQ(client->in_flight(), 1u);
  ASSERT_TRUE(run_until(response));
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"ok":true})");
  EXPECT_EQ(response->content_type, "application/json");
  EXPECT_TRUE(response->error.empty());
  EXPECT_EQ(client->in_flight(), 0u);
  ASSERT_EQ(server.received().size(), 1u);
  EXPECT_EQ(server.received()[0].rfind("GET /things?x=1 HTTP/1.1\r\n", 0), 0u);
}

TEST_F(HttpClientTest, PostSendsItsBodyHeadersAndBasicAuth) {
  CannedHttpServer server(201, R"({"sid":"CA1"})");
  HttpClientRequest request = get(server.base_url() + "/Calls.json");
  request.method = "POST";
  request.body = "To=%2B15551234567&From=%2B15005550006";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Test", "yes"}};
  request.username = "AC123";
  request.password = "secret-token";
  std::optional<HttpClientResponse> response;
  client->start(request, [&](const HttpClientResponse& r) { response = r; });
  ASSERT_TRUE(run_until(response));
  EXPECT_EQ(response->status, 201);
  const std::string received = server.received().at(0);
  EXPECT_EQ(received.rfind("POST /Calls.json HTTP/1.1\r\n", 0), 0u);
  const std::string credentials = "AC123:secret-token";
  EXPECT_NE(received.find("Authorization: Basic " +
                          base64::encode(std::span<const std::uint8_t>(
                              reinterpret_cast<const std::uint8_t*>(credentials.data()), credentials.size()))),
            std::string::npos);
  EXPECT_NE(received.find("X-Test: yes\r\n"), std::string::npos);
  EXPECT_NE(received.find("\r\n\r\n" + request.body), std::string::npos);
}

TEST_F(HttpClientTest, ErrorStatusesAreResponsesNotErrors) {
  CannedHttpServer server(404, R"({"code":20404})");
  std::optional<HttpClientResponse> response;
  client->start(get(server.base_url() + "/x"), [&](const HttpClientResponse& r) { response = r; });
  ASSERT_TRUE(run_until(response));
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, R"({"code":20404})");
  EXPECT_TRUE(response->error.empty());
}

TEST_F(HttpClientTest, ARequestPastItsTimeoutEndsTimedOut) {
  CannedHttpServer server(200, "{}", "application/json", 500ms);
  HttpClientRequest request = get(server.base_url() + "/slow");
  request.timeout = 150ms;
  const auto started = Clock::now();
  std::optional<HttpClientResponse> response;
  client->start(request, [&](const HttpClientResponse& r) { response = r; });
  ASSERT_TRUE(run_until(response));
  const auto took = Clock::now() - started;
  EXPECT_TRUE(response->timed_out);
  EXPECT_EQ(response->status, 0);
  EXPECT_FALSE(response->error.empty());
  EXPECT_GE(took, 150ms);  // never early
  EXPECT_LT(took, 500ms);  // and not waiting for the answer
}

TEST_F(HttpClientTest, AResponseLargerThanTheLimitIsAnErrorNotABuffer) {
  CannedHttpServer server(200, std::string(10000, 'x'), "text/plain");
  HttpClientRequest request = get(server.base_url() + "/big");
  request.max_response_bytes = 1024;
  std::optional<HttpClientResponse> response;
  client->start(request, [&](const HttpClientResponse& r) { response = r; });
  ASSERT_TRUE(run_until(response));
  EXPECT_EQ(response->status, 0);
  EXPECT_EQ(response->error, "the response was larger than 1024 bytes");
  EXPECT_TRUE(response->body.empty());
}

TEST_F(HttpClientTest, NobodyListeningIsAnErrorInWords) {
  int port = 0;
  {
    CannedHttpServer gone(200, "{}");
    port = gone.port();
  }
  std::optional<HttpClientResponse> response;
  client->start(get("http://127.0.0.1:" + std::to_string(port) + "/"), [&](const HttpClientResponse& r) { response = r; });
  ASSERT_TRUE(run_until(response));
  EXPECT_EQ(response->status, 0);
  EXPECT_FALSE(response->timed_out);
  EXPECT_FALSE(response->error.empty());
}

TEST_F(HttpClientTest, ARequestThatCannotStartIsReportedOnTheLoop) {
  std::optional<HttpClientResponse> response;
  client->start(get("ftp://127.0.0.1/file"), [&](const HttpClientResponse& r) { response = r; });
  EXPECT_FALSE(response);
  ASSERT_TRUE(run_until(response));
  EXPECT_NE(response->error.find("not an http:// or https:// URL"), std::string::npos);
  HttpClientRequest bad = get("http://127.0.0.1/");
  bad.method = "BREW";
  response.reset();
  client->start(bad, [&](const HttpClientResponse& r) { response = r; });
  ASSERT_TRUE(run_until(response));
  EXPECT_NE(response->error.find("unsupported HTTP method"), std::string::npos);
}

TEST_F(HttpClientTest, ACancelledRequestNeverCompletes) {
  CannedHttpServer server(200, "{}", "application/json", 300ms);
  bool called = false;
  const auto id = client->start(get(server.base_url() + "/"), [&](const HttpClientResponse&) { called = true; });
  io.run_for(50ms);
  client->cancel(id);
  EXPECT_EQ(client->in_flight(), 0u);
  client->cancel(id);  // again: ignored
  io.restart();
  io.run_for(500ms);
  EXPECT_FALSE(called);
}

TEST_F(HttpClientTest, ASlowRequestDelaysNoOther) {
  CannedHttpServer slow(200, "slow", "text/plain", 600ms);
  CannedHttpServer fast(200, "fast", "text/plain");
  std::optional<HttpClientResponse> slow_response, fast_response;
  Clock::time_point fast_at{}, slow_at{};
  client->start(get(slow.base_url() + "/"), [&](const HttpClientResponse& r) {
    slow_response = r;
    slow_at = Clock::now();
  });
  client->start(get(fast.base_url() + "/"), [&](const HttpClientResponse& r) {
    fast_response = r;
    fast_at = Clock::now();
  });
  ASSERT_TRUE(run_until(slow_response));
  ASSERT_TRUE(fast_response);
  EXPECT_EQ(fast_response->body, "fast");
  EXPECT_EQ(slow_response->body, "slow");
  EXPECT_LT(fast_at, slow_at);  // in order, whatever the machine's speed
}

TEST_F(HttpClientTest, DestroyingTheClientDropsCompletionsUncalled) {
  CannedHttpServer server(200, "{}", "application/json", 300ms);
  auto token = std::make_shared<int>(0);
  bool called = false;
  client->start(get(server.base_url() + "/"), [&, token](const HttpClientResponse&) { called = true; });
  io.run_for(50ms);
  const std::weak_ptr<int> watch = token;
  token.reset();
  client.reset();
  EXPECT_TRUE(watch.expired());  // the completion (and what it held) is gone
  io.restart();
  io.run_for(400ms);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace concierge
