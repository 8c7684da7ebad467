#pragma once
// An outbound WebSocket (ws:// or wss://) for C++ plugins on the C boundary: the host's client (abi.h's
// ws_client_open / ws_client_send / ws_client_queued / ws_client_close and concierge_ws_client_listener) as the SDK's
// net::WebSocketClient interface, so code written against that interface (a voice session that owns its client and is
// its listener) runs unchanged over the host's client in a plugin, and over the SDK's own client in a test.
// Header-only, compiled into each plugin; includes no Asio, Beast or OpenSSL, and links nothing but the host's table.
//
//   auto client = concierge::cxx::WebSocketClientOverC::create(context.host, options, config.ca_file);
//   client->start(&my_listener);   // connects; my_listener hears on_websocket_open/message/failed on the loop
//   client->send(text);            // copied by the host; false when not open
//   client->close();               // no listener call after it returns (also done by the destructor)
//
// THREADS: the host's event loop only, like everything of abi.h but post: create, start, send, queued_messages and
// close must be called on it, and every listener call runs on it, never inside start, send or close.
//
// OWNERSHIP:
// - The client is the plugin's (a shared_ptr, usually held by the session that is its listener); the host's handle
//   inside it is the host's, used from start until close (abi.h's concierge_ws_client).
// - The listener is NOT owned: it must outlive the client's use of it, i.e. until close() has returned or
//   on_websocket_failed() has been called, whichever comes first (net::WebSocketListener's rule). The view passed to
//   on_websocket_message is the host's read buffer, valid during the call only.
// - `host` (the instance's cxx::Host) must outlive the client's open life. A client still open when the host destroys
//   the instance has been closed by the host already (abi.h); the C++ layer tells every such client before it frees
//   anything of the instance (Host::Attachment), so a session destroyed late never touches the ended handle.
//
// What differs from the SDK's own client: the options' TLS trust is a PEM file path (ca_file, "" = the system's
// store) rather than an ssl::context, since the host builds the TLS context; the host takes timeouts in
// milliseconds; and a refused upgrade reaches the plugin as the host's sentence, "<peer_name> refused the WebSocket
// upgrade (HTTP <status>[: <detail>])" (net::WebSocketClientOptions' default wording, which the host uses), from
// which options.describe_refusal, when set, is given the status and detail back to word the failure its own way.
// (C ABI 1.1 has no structured refusal; the words are the SDK's documented default, read back here in one place.)
//
// A steady stream of messages allocates nothing here in either direction: send passes a view to the host, which
// copies it into its reused buffers; a message arrives as a view of the host's read buffer.
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "concierge/abi.h"
#include "concierge/cxx/plugin.hpp"
#include "concierge/net/websocket_client.hpp"

namespace concierge::cxx {

class WebSocketClientOverC final : public net::WebSocketClient,
                                   public Host::Attachment,
                                   public std::enable_shared_from_this<WebSocketClientOverC> {
 public:
  // A client for `options` (host, port, target, headers, timeouts, peer_name, describe_refusal; `options.tls` picks
  // wss://, then trusting `ca_file`, or the system's store when ""). Nothing happens until start().
  static std::shared_ptr<WebSocketClientOverC> create(Host& host, net::WebSocketClientOptions options,
                                                      std::string ca_file = {}) {
    return std::shared_ptr<WebSocketClientOverC>(new WebSocketClientOverC(host, std::move(options), std::move(ca_file)));
  }
  WebSocketClientOverC(const WebSocketClientOverC&) = delete;
  WebSocketClientOverC& operator=(const WebSocketClientOverC&) = delete;
  ~WebSocketClientOverC() override { close(); }

  // Begins connecting (ws_client_open). Options the host refuses (a ca_file it cannot load, a bad host) are
  // reported through on_websocket_failed from the loop, soon, never inside start. Call once.
  void start(net::WebSocketListener* listener) override {
    if (started_) return;
    started_ = true;
    listener_ = listener;
    std::vector<concierge_header> headers;
    headers.reserve(options_.headers.size());
    for (const auto& [name, value] : options_.headers) headers.push_back({str(name), str(value)});
    const concierge_ws_client_options c{sizeof(concierge_ws_client_options),
                                        options_.tls ? 1 : 0,
                                        str(options_.host),
                                        str(options_.port),
                                        str(options_.target),
                                        str(options_.host_header),
                                        headers.data(),
                                        headers.size(),
                                        milliseconds(options_.connect_timeout),
                                        milliseconds(options_.idle_timeout),
                                        static_cast<std::uint64_t>(options_.max_message_bytes),
                                        str(options_.peer_name),
                                        str(ca_file_)};
    char message[512] = "";
    char key_path[8] = "";
    concierge_error error{sizeof(concierge_error), CONCIERGE_OK, message, sizeof message, key_path, sizeof key_path, 0};
    handle_ = host_->api()->ws_client_open(host_->handle(), &c, &kListener, this, &error);
    if (handle_) {
      host_->attach(this);
      return;
    }
    // Never inside start: the failure comes from the loop, unless the client is closed or gone first.
    std::string why = message[0] ? message : "the host refused to open a WebSocket";
    why = "could not connect to " + options_.peer_name + ": " + why;
    host_->post([weak = weak_from_this(), why = std::move(why)] {
      if (auto self = weak.lock()) self->failed(why);
    });
  }

  // Queues a copy of `text` (ws_client_send). False, and nothing queued, when not open or closing.
  bool send(std::string_view text) override {
    return handle_ && host_->api()->ws_client_send(handle_, str(text)) != 0;
  }
  // Messages the host has queued and not yet written (the one being written included).
  std::size_t queued_messages() const override { return handle_ ? host_->api()->ws_client_queued(handle_) : 0; }
  // Detaches the listener and closes politely (ws_client_close). Idempotent; no listener call after it returns.
  void close() override {
    listener_ = nullptr;
    if (!handle_) return;
    concierge_ws_client* handle = std::exchange(handle_, nullptr);
    host_->detach(this);
    host_->api()->ws_client_close(handle);
  }

 private:
  WebSocketClientOverC(Host& host, net::WebSocketClientOptions options, std::string ca_file)
      : host_(&host), options_(std::move(options)), ca_file_(std::move(ca_file)) {}

  static std::uint32_t milliseconds(std::chrono::seconds s) {
    return s.count() > 0 ? static_cast<std::uint32_t>(s.count() * 1000) : 0;
  }

  // Host::Attachment: the host is destroying the instance and has closed the handle itself.
  void host_closing() noexcept override {
    handle_ = nullptr;
    listener_ = nullptr;
  }

  void failed(std::string_view message) {
    net::WebSocketListener* listener = std::exchange(listener_, nullptr);
    if (!listener) return;
    if (options_.describe_refusal) {
      unsigned status = 0;
      std::string detail;
      if (parse_refusal(message, status, detail)) return listener->on_websocket_failed(options_.describe_refusal(status, detail));
    }
    listener->on_websocket_failed(message);
  }

  // "<peer_name> refused the WebSocket upgrade (HTTP <status>)" or "... (HTTP <status>: <detail>)".
  bool parse_refusal(std::string_view message, unsigned& status, std::string& detail) const {
    const std::string prefix = options_.peer_name + " refused the WebSocket upgrade (HTTP ";
    if (message.substr(0, prefix.size()) != prefix || message.empty() || message.back() != ')') return false;
    std::string_view rest = message.substr(prefix.size(), message.size() - prefix.size() - 1);
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), status);
    if (ec != std::errc() || status < 100 || status > 999) return false;
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    if (rest.empty()) return true;
    if (rest.substr(0, 2) != ": ") return false;
    detail.assign(rest.substr(2));
    return true;
  }

  static WebSocketClientOverC* self(void* user) { return static_cast<WebSocketClientOverC*>(user); }
  static void on_open(void* user) {
    if (auto* l = self(user)->listener_) l->on_websocket_open();
  }
  // The hot path: a view of the host's buffer straight to the listener (which may close or drop the client).
  static void on_message(void* user, concierge_str text) {
    if (auto* l = self(user)->listener_) l->on_websocket_message(view(text));
  }
  static void on_failed(void* user, concierge_str message) { self(user)->failed(view(message)); }
  static constexpr concierge_ws_client_listener kListener{sizeof(concierge_ws_client_listener), &on_open,
                                                          &on_message, &on_failed};

  Host* host_;
  net::WebSocketClientOptions options_;
  std::string ca_file_;
  concierge_ws_client* handle_ = nullptr;
  net::WebSocketListener* listener_ = nullptr;
  bool started_ = false;
};

}  // namespace concierge::cxx
