// concierge/net/websocket_url.hpp: what plugins' configured ws:// and wss:// URLs become, and the reasons they are
// refused.
#include <gtest/gtest.h>

#include "concierge/net/websocket_url.hpp"

namespace concierge::net {
namespace {

TEST(WebSocketUrl, SplitsSchemeHostPortAndTarget) {
  std::string why;
  auto u = parse_websocket_url("wss://api.openai.com/v1/realtime?model=gpt-realtime", &why);
  ASSERT_TRUE(u) << why;
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "api.openai.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/v1/realtime?model=gpt-realtime");
  EXPECT_EQ(u->host_header(), "api.openai.com");

  u = parse_websocket_url("ws://127.0.0.1:9000", &why);
  ASSERT_TRUE(u) << why;
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->port, "9000");
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->host_header(), "127.0.0.1:9000");

  u = parse_websocket_url("ws://[::1]:8080?x=1", &why);
  ASSERT_TRUE(u) << why;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->target, "/?x=1");
  EXPECT_EQ(u->host_header(), "[::1]:8080");
  EXPECT_EQ(parse_websocket_url("ws://example.com", nullptr)->port, "80");
}

TEST(WebSocketUrl, RefusesWhatIsNotOneWithAReason) {
  const std::pair<const char*, const char*> bad[] = {
      {"https://api.openai.com/v1/realtime", "expected a wss://"},
      {"wss:///v1", "no host"},
      {"wss://user:pw@example.com/", "credentials"},
      {"wss://[::1/", "unterminated IPv6"},
      {"wss://[::1]x/", "after the IPv6"},
      {"wss://example.com:44x3/", "not a number"},
      {"wss://example.com:123456/", "not a number"},
      {"wss://:443/", "no host"},
  };
  for (const auto& [url, reason] : bad) {
    std::string why;
    EXPECT_FALSE(parse_websocket_url(url, &why)) << url;
    EXPECT_NE(why.find(reason), std::string::npos) << url << ": " << why;
  }
}

TEST(WebSocketUrl, AppliesWhereToConnectToTheClientsOptions) {
  WebSocketClientOptions options;
  options.host_header = "stale";
  options.peer_name = "the service";
  parse_websocket_url("ws://localhost:8081/v1/live/sessions", nullptr)->apply_to(options);
  EXPECT_FALSE(options.tls);
  EXPECT_EQ(options.host, "localhost");
  EXPECT_EQ(options.port, "8081");
  EXPECT_EQ(options.target, "/v1/live/sessions");
  EXPECT_EQ(options.host_header, "");  // the client derives it from host and port
  EXPECT_EQ(options.peer_name, "the service");  // the rest stays the caller's
}

}  // namespace
}  // namespace concierge::net
