#include "ws_frames.hpp"

#include <cstring>

namespace concierge::bench {

void append_client_frame(std::string& out, std::uint8_t opcode, std::string_view payload, std::uint32_t mask_key) {
  const std::uint8_t key[4] = {static_cast<std::uint8_t>(mask_key >> 24), static_cast<std::uint8_t>(mask_key >> 16),
                               static_cast<std::uint8_t>(mask_key >> 8), static_cast<std::uint8_t>(mask_key)};
  net::ws::append_header(out, opcode, payload.size(), key);
  const std::size_t at = out.size();
  out.append(payload);
  net::ws::apply_mask(out.data() + at, payload.size(), key);
}

char* WsFrameReader::write_position() {
  if (begin_ > 0) {  // keep the unread tail at the front
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < 4096) buffer_.resize(buffer_.size() * 2);
  return buffer_.data() + end_;
}

WsFrameReader::Result WsFrameReader::next(WsFrame& frame) {
  const std::size_t available = end_ - begin_;
  if (available < 2) return Result::need_more;
  net::ws::FrameHeader h;
  const bool whole_header =
      net::ws::parse_header(reinterpret_cast<const std::uint8_t*>(buffer_.data() + begin_), available, h);
  if (h.reserved_bits) {
    error_ = "reserved bits set in a frame from the server";
    return Result::error;
  }
  if (h.masked) {
    error_ = "masked frame from the server";
    return Result::error;
  }
  if (!whole_header) return Result::need_more;
  const std::uint64_t length = h.length;
  const std::size_t header = h.size;
  if (length > max_frame_) {
    error_ = "frame of " + std::to_string(length) + " bytes from the server";
    return Result::error;
  }
  if (available < header + length) return Result::need_more;
  frame.opcode = h.opcode;
  frame.fin = h.fin;
  frame.payload = std::string_view(buffer_.data() + begin_ + header, static_cast<std::size_t>(length));
  begin_ += header + static_cast<std::size_t>(length);
  return Result::frame;
}

}  // namespace concierge::bench
