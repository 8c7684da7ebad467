#pragma once
// The WebSocket to the GPT-Live API: connect (TCP, TLS with verification, upgrade with the bearer token), a read
// loop, and a write queue whose buffers are reused so that a steady stream of audio events allocates nothing.
// Everything runs on the io_context it is given; nothing blocks.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "live_config.hpp"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace concierge::openai_live {

class TransportListener {
 public:
  virtual ~TransportListener() = default;
  virtual void on_transport_open() = 0;
  virtual void on_transport_message(std::string_view text) = 0;  // valid during the call only
  // The connection failed or was lost; no more calls follow. `message` is for people.
  virtual void on_transport_failed(std::string_view message) = 0;
};

class LiveTransport {
 public:
  virtual ~LiveTransport() = default;

  // `tls_context` is required for wss:// endpoints and ignored for ws://.
  static std::shared_ptr<LiveTransport> create(boost::asio::io_context& io,
                                                   std::shared_ptr<boost::asio::ssl::context> tls_context,
                                                   Endpoint endpoint, std::string api_key,
                                                   std::chrono::seconds connect_timeout);

  virtual void start(TransportListener* listener) = 0;
  // Queues a text message (copied into a reused buffer). False when the connection is not open.
  virtual bool send(std::string_view text) = 0;
  virtual std::size_t queued_messages() const = 0;
  // Detaches the listener (no calls after this returns) and closes the connection politely.
  virtual void close() = 0;
};

}  // namespace concierge::openai_live
