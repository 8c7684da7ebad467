#pragma once
// The host owns the HTTP/WebSocket server; plugins that serve requests (a telephony provider's webhooks and media
// stream) see these plain types, never the server's. Header names are lower-case.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace concierge {

struct HttpRequest {
  std::string method;  // "GET", "POST"
  std::string target;  // path and query as received: "/twiml?call_id=abc"
  std::string path;    // "/twiml"
  std::map<std::string, std::string> query;  // decoded query parameters
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;

  // The first header of that (lower-case) name, or "" when absent.
  std::string_view header(std::string_view lower_case_name) const;
  // The body as application/x-www-form-urlencoded fields; repeated names keep every value.
  std::vector<std::pair<std::string, std::string>> form() const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // {"error": message} with the given status.
  static HttpResponse json_error(int status, std::string_view message);
  static HttpResponse json(int status, std::string body);
};

std::string url_encode(std::string_view text);        // RFC 3986 unreserved kept, everything else %XX
std::optional<std::string> url_decode(std::string_view text, bool plus_is_space = true);
std::map<std::string, std::string> parse_query(std::string_view query);  // the last value of a name wins
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body);
std::string xml_escape(std::string_view text);

// One accepted WebSocket, owned by the host. send_text queues the message (it is copied into the connection's
// reusable buffers) and returns at once. Safe to call only on the host's event loop.
class WebSocketPeer {
 public:
  virtual ~WebSocketPeer();
  virtual void send_text(std::string_view message) = 0;
  virtual void close(std::string_view reason) = 0;
  virtual bool is_open() const = 0;
  virtual const HttpRequest& upgrade_request() const = 0;
};

// What a plugin gives the host for a WebSocket it accepted: the host calls it for every message and once at the end.
// The string_view is valid only during the call.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler();
  virtual void on_text(std::string_view message) = 0;
  virtual void on_closed(std::string_view reason) = 0;
};

}  // namespace concierge
