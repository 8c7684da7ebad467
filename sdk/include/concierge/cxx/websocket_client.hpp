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
// store) rather than an ssl::context, since the host builds the TLS context (prepare_tls loads it ahead, from
// create()); the host takes timeouts in milliseconds; and options.describe_refusal runs here, in the plugin, not in
// the client: the host reports a refused upgrade as data (abi.h's on_refused, C ABI 1.3: the HTTP status and the
// detail), and describe_refusal, when set, words on_websocket_failed's message from them. Unset, the message is the
// host's sentence, "<peer_name> refused the WebSocket upgrade (HTTP <status>[: <detail>])", the SDK's default.
//
// Versions (this layer and abi.h are one: a plugin built with this header is a C ABI 1.3 plugin):
// - this layer in a 1.3 or later host: the host calls on_refused (this listener's struct_size covers it), so the
//   status and detail arrive as data; nothing is read back from words.
// - this layer in a 1.0-1.2 host: never happens; such a host refuses a 1.3 plugin at load ("built for C ABI 1.3").
// - a plugin built with the 1.1/1.2 layer in a 1.3+ host: its listener ends before on_refused, so the host tells it
//   only the sentence, worded as ever; that layer reads the status back from it, as it always did.
//
// A steady stream of messages allocates nothing here in either direction: send passes a view to the host, which
// copies it into its reused buffers; a message arrives as a view of the host's read buffer.
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

  // Loads ahead, for the host's wss:// clients of this instance that trust `ca_file` ("" = the system's store), the
  // TLS context (abi.h's ws_client_prepare_tls): call it from the plugin's create(), where the first call's client
  // would otherwise wait tens of milliseconds for the system's store, and where a CA file that does not load can
  // still be a config error. Returns "" or why the PEM bundle `ca_file` cannot be loaded ("could not load <file>:
  // <why>"); the system's store loads on a host worker, so "" then says nothing about it. Loop only.
  static std::string prepare_tls(Host& host, const std::string& ca_file) {
    if (host.api()->abi_minor < 3) return "";  // never: a 1.3 plugin is refused by an older host
    char message[512] = "";
    char key_path[8] = "";
    concierge_error error{sizeof(concierge_error), CONCIERGE_OK, message, sizeof message, key_path, sizeof key_path, 0};
    if (host.api()->ws_client_prepare_tls(host.handle(), str(ca_file), &error) == CONCIERGE_OK) return "";
    return message[0] ? message : "the host could not load " + ca_file;
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

  // The host's on_failed: after on_refused for a refused upgrade, which describe_refusal words from the data.
  void failed(std::string_view message) {
    net::WebSocketListener* listener = std::exchange(listener_, nullptr);
    if (!listener) return;
    if (refused_status_ != 0 && options_.describe_refusal)
      return listener->on_websocket_failed(options_.describe_refusal(refused_status_, refused_detail_));
    listener->on_websocket_failed(message);
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
  // C ABI 1.3: a refused upgrade as data, just before on_failed (kept for it; a failure is no hot path).
  static void on_refused(void* user, std::int32_t http_status, concierge_str detail) {
    WebSocketClientOverC* client = self(user);
    client->refused_status_ = http_status > 0 ? static_cast<unsigned>(http_status) : 0;
    client->refused_detail_.assign(view(detail));
  }
  static constexpr concierge_ws_client_listener kListener{sizeof(concierge_ws_client_listener), &on_open,
                                                          &on_message, &on_failed, &on_refused};

  Host* host_;
  net::WebSocketClientOptions options_;
  std::string ca_file_;
  concierge_ws_client* handle_ = nullptr;
  net::WebSocketListener* listener_ = nullptr;
  unsigned refused_status_ = 0;  // set by on_refused
  std::string refused_detail_;
  bool started_ = false;
};

}  // namespace concierge::cxx
