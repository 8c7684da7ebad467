#pragma once
// RFC 6455 frame headers and masking. The daemon's WebSocket server (host/src/http_server.cpp) and the benchmark's
// client (bench/src/ws_frames.cpp) both read and write frames themselves after Beast's handshake, so that everything
// sent in one turn of the loop leaves in one write; this is the one place that knows the frame layout.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace concierge::net::ws {

enum Opcode : std::uint8_t { kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9, kPong = 0xA };

// Appends the header of a final frame carrying `size` bytes. With a mask key (clients must mask), the mask bit is
// set and the key follows; the payload must then be masked with apply_mask().
inline void append_header(std::string& out, std::uint8_t opcode, std::uint64_t size,
                          const std::uint8_t* mask_key = nullptr) {
  const char mask_bit = mask_key ? char(0x80) : char(0);
  out += static_cast<char>(0x80 | opcode);
  if (size < 126) {
    out += static_cast<char>(mask_bit | static_cast<char>(size));
  } else if (size <= 0xffff) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(size >> 8);
    out += static_cast<char>(size & 0xff);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int i = 0; i < 8; ++i) out += static_cast<char>(size >> (56 - 8 * i));
  }
  if (mask_key) out.append(reinterpret_cast<const char*>(mask_key), 4);
}

struct FrameHeader {
  bool fin = true;
  std::uint8_t opcode = 0;
  bool reserved_bits = false;  // RSV1-3: set only by extensions, and none is ever negotiated here
  bool masked = false;
  std::uint64_t length = 0;             // the payload's
  std::size_t size = 0;                 // the header's own bytes, mask key included
  const std::uint8_t* mask_key = nullptr;
};

// Reads the header at `p` (at least 2 bytes available). The first byte's fields and `masked` are always set; the
// return value says whether the whole header (and so `length`, `size`, `mask_key`) was there.
inline bool parse_header(const std::uint8_t* p, std::size_t available, FrameHeader& h) {
  h.fin = p[0] & 0x80;
  h.reserved_bits = p[0] & 0x70;
  h.opcode = p[0] & 0x0f;
  h.masked = p[1] & 0x80;
  const std::uint8_t length7 = p[1] & 0x7f;
  h.size = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (h.masked ? 4 : 0);
  if (available < h.size) return false;
  if (length7 == 126) {
    h.length = (std::uint64_t(p[2]) << 8) | p[3];
  } else if (length7 == 127) {
    h.length = 0;
    for (int i = 0; i < 8; ++i) h.length = (h.length << 8) | p[2 + i];
  } else {
    h.length = length7;
  }
  h.mask_key = h.masked ? p + h.size - 4 : nullptr;
  return true;
}

// XORs `data` with the 4-byte key (masking and unmasking are the same), eight bytes at a time.
inline void apply_mask(char* data, std::size_t size, const std::uint8_t* key) {
  std::uint8_t k[8];
  for (int i = 0; i < 8; ++i) k[i] = key[i % 4];
  std::uint64_t key64;
  std::memcpy(&key64, k, 8);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    word ^= key64;
    std::memcpy(data + i, &word, 8);
  }
  for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ key[i % 4]);
}

}  // namespace concierge::net::ws
