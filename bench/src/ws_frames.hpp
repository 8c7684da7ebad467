#pragma once
// WebSocket frames as the load generator writes and reads them after the handshake (RFC 6455, client side). Beast
// does the handshake; the frames are handled here so that a media frame and the marks due with it leave in one
// write (one syscall) and every frame the daemon sent since the last read is taken from one read: at a thousand
// calls the generator shares two cores with the daemon it measures, and Beast's stream costs a write and a
// completion per message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "concierge/net/websocket_frame.hpp"

namespace concierge::bench {

// The generator's names for the shared opcodes (concierge/net/websocket_frame.hpp).
enum WsOpcode : std::uint8_t {
  kWsContinuation = net::ws::kContinuation, kWsText = net::ws::kText, kWsBinary = net::ws::kBinary,
  kWsClose = net::ws::kClose, kWsPing = net::ws::kPing, kWsPong = net::ws::kPong
};

// Appends one final, masked client frame (clients must mask; the key only has to be unpredictable to proxies).
void append_client_frame(std::string& out, std::uint8_t opcode, std::string_view payload, std::uint32_t mask_key);

struct WsFrame {
  std::uint8_t opcode = 0;
  bool fin = true;
  std::string_view payload;  // unmasked, a view into the reader's buffer
};

// Frames from the server, parsed in place from bytes appended with the read buffer functions.
class WsFrameReader {
 public:
  enum class Result { frame, need_more, error };
  explicit WsFrameReader(std::size_t max_frame = 1 << 20) : max_frame_(max_frame) { buffer_.resize(16 * 1024); }
  // Where the next read may put its bytes (at least 4 KiB: the buffer grows for a frame that does not fit).
  char* write_position();
  std::size_t write_room() const { return buffer_.size() - end_; }
  void wrote(std::size_t n) { end_ += n; }
  // The next complete frame; a frame's payload stays valid until the next call to write_position().
  Result next(WsFrame& frame);
  const std::string& error() const { return error_; }

 private:
  std::string buffer_;
  std::size_t begin_ = 0, end_ = 0;
  std::size_t max_frame_;
  std::string error_;
};

}  // namespace concierge::bench
