#include "twilio_wire.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <random>

#include "concierge/base64.hpp"
#include "concierge/mulaw.hpp"

namespace concierge::bench {
namespace {

std::string hex_id(std::string_view prefix, std::uint64_t a, std::uint64_t b) {
  // 32 hex digits from two mixed 64-bit values (splitmix64), so ids look like Twilio's and never repeat in a run.
  auto mix = [](std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  };
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(prefix);
  for (std::uint64_t v : {mix(a ^ mix(b)), mix(b + 0x1234567ull) ^ a}) {
    for (int shift = 60; shift >= 0; shift -= 4) out += digits[(v >> shift) & 0xF];
  }
  return out;
}

void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

// JSON string escaping for the few values we put in messages (ids, user-given custom parameters).
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// Finds `"key"` followed by optional spaces, ':' and a string value; returns the value (no unescaping: the values
// we read are base64 and mark names).
std::optional<std::string_view> string_field(std::string_view message, std::string_view key) {
  std::size_t at = 0;
  while (true) {
    at = message.find(key, at);
    if (at == std::string_view::npos) return std::nullopt;
    if (at == 0 || message[at - 1] != '"' || at + key.size() >= message.size() || message[at + key.size()] != '"') {
      at += key.size();
      continue;
    }
    std::size_t p = at + key.size() + 1;
    while (p < message.size() && (message[p] == ' ' || message[p] == '\t' || message[p] == '\n')) ++p;
    if (p >= message.size() || message[p] != ':') {
      at = p;
      continue;
    }
    ++p;
    while (p < message.size() && (message[p] == ' ' || message[p] == '\t' || message[p] == '\n')) ++p;
    if (p >= message.size() || message[p] != '"') return std::nullopt;
    const std::size_t end = message.find('"', p + 1);
    if (end == std::string_view::npos) return std::nullopt;
    return message.substr(p + 1, end - p - 1);
  }
}

constexpr std::uint8_t kMagic[4] = {0x43, 0x43, 0x42, 0x4E};  // "CCBN"

}  // namespace

StreamIdentity make_identity(std::uint64_t run_id, std::uint32_t call_index) {
  return {hex_id("AC", run_id, 0), hex_id("CA", run_id, call_index + 1),
          hex_id("MZ", run_id, (std::uint64_t(call_index) + 1) << 32)};
}

std::string connected_message() { return R"({"event":"connected","protocol":"Call","version":"1.0.0"})"; }

std::string start_message(const StreamIdentity& id, const std::vector<std::pair<std::string, std::string>>& custom) {
  std::string out = R"({"event":"start","sequenceNumber":"1","start":{"streamSid":")";
  out += id.stream_sid;
  out += R"(","accountSid":")";
  out += id.account_sid;
  out += R"(","callSid":")";
  out += id.call_sid;
  out += R"(","tracks":["inbound"],"customParameters":{)";
  bool first = true;
  for (const auto& [name, value] : custom) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, name);
    out += ':';
    append_json_string(out, value);
  }
  out += R"(},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":")";
  out += id.stream_sid;
  out += R"("})";
  return out;
}

void media_message(std::string& out, const StreamIdentity& id, std::uint64_t sequence_number, std::uint64_t chunk,
                   std::uint64_t timestamp_ms, const std::uint8_t* mulaw, std::size_t size) {
  out.clear();
  out += R"({"event":"media","sequenceNumber":")";
  append_number(out, sequence_number);
  out += R"(","media":{"track":"inbound","chunk":")";
  append_number(out, chunk);
  out += R"(","timestamp":")";
  append_number(out, timestamp_ms);
  out += R"(","payload":")";
  const std::size_t at = out.size();
  out.resize(at + base64::encoded_size(size));
  base64::encode(std::span<const std::uint8_t>(mulaw, size), std::span<char>(out.data() + at, out.size() - at));
  out += R"("},"streamSid":")";
  out += id.stream_sid;
  out += R"("})";
}

std::string stop_message(const StreamIdentity& id, std::uint64_t sequence_number) {
  std::string out = R"({"event":"stop","sequenceNumber":")";
  append_number(out, sequence_number);
  out += R"(","stop":{"accountSid":")";
  out += id.account_sid;
  out += R"(","callSid":")";
  out += id.call_sid;
  out += R"("},"streamSid":")";
  out += id.stream_sid;
  out += R"("})";
  return out;
}

void mark_message(std::string& out, const StreamIdentity& id, std::uint64_t sequence_number, std::string_view name) {
  out.clear();
  out += R"({"event":"mark","sequenceNumber":")";
  append_number(out, sequence_number);
  out += R"(","streamSid":")";
  out += id.stream_sid;
  out += R"(","mark":{"name":)";
  append_json_string(out, name);
  out += R"(}})";
}

ServerMessage scan_server_message(std::string_view message) {
  ServerMessage result;
  const auto event = string_field(message, "event");
  if (!event) return result;
  if (*event == "media") {
    const auto payload = string_field(message, "payload");
    if (!payload) return result;
    result.kind = ServerMessage::Kind::media;
    result.payload = *payload;
  } else if (*event == "mark") {
    const auto name = string_field(message, "name");
    if (!name) return result;
    result.kind = ServerMessage::Kind::mark;
    result.mark_name = *name;
  } else if (*event == "clear") {
    result.kind = ServerMessage::Kind::clear;
  } else {
    result.kind = ServerMessage::Kind::other;
  }
  return result;
}

std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             std::vector<std::pair<std::string, std::string>> params) {
  std::sort(params.begin(), params.end());
  std::string data(url);
  for (const auto& [name, value] : params) data += name + value;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  return base64::encode(std::span<const std::uint8_t>(digest, length));
}

void fill_frame(std::uint8_t* frame, std::uint32_t call_index, std::uint32_t sequence) {
  std::memcpy(frame, kMagic, 4);
  for (int i = 0; i < 4; ++i) frame[4 + i] = static_cast<std::uint8_t>(call_index >> (8 * i));
  for (int i = 0; i < 4; ++i) frame[8 + i] = static_cast<std::uint8_t>(sequence >> (8 * i));
  // The rest: a 440 Hz tone at -12 dBFS, continuous across frames, so a resampling path carries something speech-
  // like in level rather than only the marker's clicks. 440 Hz repeats every 200 samples at 8 kHz: a table of one
  // period, built once, so the generator spends nothing on sin() at 50 frames a second per call.
  static const auto period = [] {
    std::array<std::uint8_t, 200> table{};
    for (std::size_t n = 0; n < table.size(); ++n)
      table[n] = mulaw::encode(
          static_cast<std::int16_t>(8000.0 * std::sin(2 * 3.141592653589793 * 440.0 * double(n) / 8000.0)));
    return table;
  }();
  const std::uint64_t first = std::uint64_t(sequence) * kFrameBytes;
  for (std::size_t i = 12; i < kFrameBytes; ++i) frame[i] = period[(first + i) % period.size()];
}

std::optional<Marker> read_marker(const std::uint8_t* frame, std::size_t size) {
  if (size != kFrameBytes || std::memcmp(frame, kMagic, 4) != 0) return std::nullopt;
  Marker marker{0, 0};
  for (int i = 0; i < 4; ++i) marker.call_index |= std::uint32_t(frame[4 + i]) << (8 * i);
  for (int i = 0; i < 4; ++i) marker.sequence |= std::uint32_t(frame[8 + i]) << (8 * i);
  return marker;
}

}  // namespace concierge::bench
