#pragma once
// Reading Media Streams messages. Media messages arrive 50 times a second per call (and as many marks come back), so
// both are read by a small
// allocation-free scanner that returns views into the message; every other event (a handful per call) and anything
// the scanner does not handle goes through nlohmann::json.
#include <cstdint>
#include <string_view>

namespace concierge::twilio {

// Views into the scanned message; valid while the message is.
struct MediaMessageView {
  std::string_view stream_sid;
  std::string_view track;      // "inbound" (bidirectional streams carry only the callee's side)
  std::string_view timestamp;  // milliseconds from the start of the stream, as text
  std::string_view payload;    // base64 mu-law
  std::string_view mark_name;  // mark messages: the name we gave the mark
};

enum class ScanResult {
  media,      // a well-formed media message; `out` is filled
  mark,       // a well-formed mark message (they come back as often as media goes out); out.mark_name is set
  other,      // well-formed as far as the scanner reads, but not a media message it can take: use the JSON parser
  malformed,  // not JSON of the expected shape (or a media message without a payload)
};

ScanResult scan_media_message(std::string_view message, MediaMessageView& out);

// Milliseconds as text ("1234") -> microseconds; false for anything else.
bool parse_timestamp_ms(std::string_view text, std::uint64_t& microseconds);

}  // namespace concierge::twilio
