#pragma once
// ws:// and wss:// URLs for the SDK's WebSocket client (concierge/net/websocket_client.hpp): a plugin's configured
// URL, checked once at start-up with a reason a person can act on, and turned into the client's options.
//
// Header-only (nothing here is compiled into libconcierge_sdk), so a plugin of any SDK minor can use it with any
// host of the same major.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "concierge/net/websocket_client.hpp"

namespace concierge::net {

struct WebSocketUrl {
  bool tls = true;     // wss://
  std::string host;    // a name or an address (IPv6 without its brackets)
  std::string port;    // always set: "443" for wss://, "80" for ws:// unless the URL names one
  std::string target;  // path and query as written ("/" when the URL has none; "?q" becomes "/?q")

  // The Host header: the host (IPv6 in brackets), with ":port" when it is not the scheme's default.
  std::string host_header() const {
    const bool default_port = (tls && port == "443") || (!tls && port == "80");
    const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return default_port ? h : h + ":" + port;
  }

  // Where the client connects: tls, host, port, target (the Host header follows from them). The rest of `options`
  // (headers, timeouts, wording) is the caller's.
  void apply_to(WebSocketClientOptions& options) const {
    options.tls = tls;
    options.host = host;
    options.port = port;
    options.target = target;
    options.host_header.clear();
  }
};

// Splits a ws:// or wss:// URL. nullopt when it is not one, with the reason in `why` (when given): another scheme,
// no host, credentials (user@host), an unterminated IPv6 address, a port that is not a number.
inline std::optional<WebSocketUrl> parse_websocket_url(std::string_view url, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<WebSocketUrl> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  WebSocketUrl u;
  if (url.starts_with("wss://")) {
    url.remove_prefix(6);
  } else if (url.starts_with("ws://")) {
    u.tls = false;
    url.remove_prefix(5);
  } else {
    return fail("expected a wss:// (or, for local tests, ws://) URL");
  }
  const auto slash = url.find_first_of("/?");
  std::string_view authority = url.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (u.target.front() == '?') u.target.insert(u.target.begin(), '/');
  if (authority.empty()) return fail("the URL has no host");
  if (authority.find('@') != std::string_view::npos) return fail("credentials in the URL are not supported");
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated IPv6 address");
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() == ':') u.port = std::string(authority.substr(1));
    else if (!authority.empty()) return fail("unexpected text after the IPv6 address");
  } else {
    const auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
  }
  if (u.host.empty()) return fail("the URL has no host");
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  if (!std::all_of(u.port.begin(), u.port.end(), [](char c) { return c >= '0' && c <= '9'; }) || u.port.size() > 5)
    return fail("the port is not a number");
  return u;
}

}  // namespace concierge::net
