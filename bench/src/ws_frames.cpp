#include "ws_frames.hpp"

#include <cstring>

namespace concierge::bench {

void append_client_frame(std::string& out, std::uint8_t opcode, std::string_view payload, std::uint32_t mask_key) {
  const std::uint64_t size = payload.size();
  out += static_cast<char>(0x80 | opcode);
  if (size < 126) {
    out += static_cast<char>(0x80 | size);
  } else if (size <= 0xffff) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(size >> 8);
    out += static_cast<char>(size & 0xff);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int i = 0; i < 8; ++i) out += static_cast<char>(size >> (56 - 8 * i));
  }
  const unsigned char key[4] = {static_cast<unsigned char>(mask_key >> 24), static_cast<unsigned char>(mask_key >> 16),
                                static_cast<unsigned char>(mask_key >> 8), static_cast<unsigned char>(mask_key)};
  out.append(reinterpret_cast<const char*>(key), 4);
  const std::size_t at = out.size();
  out.append(payload);
  char* p = out.data() + at;
  for (std::size_t i = 0; i < payload.size(); ++i) p[i] = static_cast<char>(p[i] ^ key[i & 3]);
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
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + begin_);
  if (p[0] & 0x70) {
    error_ = "reserved bits set in a frame from the server";
    return Result::error;
  }
  if (p[1] & 0x80) {
    error_ = "masked frame from the server";
    return Result::error;
  }
  std::uint64_t length = p[1] & 0x7f;
  std::size_t header = 2;
  if (length == 126) header = 4;
  else if (length == 127) header = 10;
  if (available < header) return Result::need_more;
  if (length == 126) length = (std::uint64_t(p[2]) << 8) | p[3];
  else if (length == 127) {
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
  }
  if (length > max_frame_) {
    error_ = "frame of " + std::to_string(length) + " bytes from the server";
    return Result::error;
  }
  if (available < header + length) return Result::need_more;
  frame.opcode = p[0] & 0x0f;
  frame.fin = p[0] & 0x80;
  frame.payload = std::string_view(buffer_.data() + begin_ + header, static_cast<std::size_t>(length));
  begin_ += header + static_cast<std::size_t>(length);
  return Result::frame;
}

}  // namespace concierge::bench
