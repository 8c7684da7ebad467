#pragma once
// Twilio's side of a Media Stream, on the wire: the JSON messages Twilio sends (connected, start, media, stop, mark),
// a scanner for what the daemon sends back (media, mark, clear), the X-Twilio-Signature of the upgrade, and the
// benchmark's frame marker. Message building writes into a reused string: the load generator sends 50 messages a
// second per call.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace concierge::bench {

struct StreamIdentity {
  std::string account_sid;  // "AC" + 32 hex
  std::string call_sid;     // "CA" + 32 hex
  std::string stream_sid;   // "MZ" + 32 hex
};
// Ids of Twilio's shape, unique per (run, call index).
StreamIdentity make_identity(std::uint64_t run_id, std::uint32_t call_index);

std::string connected_message();
// customParameters as given (flat string map, already in the order to send).
std::string start_message(const StreamIdentity& id, const std::vector<std::pair<std::string, std::string>>& custom);
// sequence_number counts every message after "connected" (start is 1); chunk counts media messages from 1;
// timestamp_ms is the media time of the frame.
void media_message(std::string& out, const StreamIdentity& id, std::uint64_t sequence_number, std::uint64_t chunk,
                   std::uint64_t timestamp_ms, const std::uint8_t* mulaw, std::size_t size);
std::string stop_message(const StreamIdentity& id, std::uint64_t sequence_number);
void mark_message(std::string& out, const StreamIdentity& id, std::uint64_t sequence_number, std::string_view name);

// What the daemon sent. Views into the message.
struct ServerMessage {
  enum class Kind { media, mark, clear, other, malformed } kind = Kind::malformed;
  std::string_view payload;    // media: base64
  std::string_view mark_name;  // mark
};
ServerMessage scan_server_message(std::string_view message);

// X-Twilio-Signature: base64(HMAC-SHA1(auth_token, url + the POST parameters sorted by name, name and value
// concatenated)). A WebSocket upgrade has no parameters.
std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             std::vector<std::pair<std::string, std::string>> params = {});

// The benchmark's marker, in the first 12 bytes of each 160-byte mu-law frame: a magic, the call index and the
// frame's sequence number. It survives only a pass-through path (bytes come back as sent); a resampling path alters
// it, and frames are then matched by their position in the stream.
inline constexpr std::size_t kFrameBytes = 160;
void fill_frame(std::uint8_t* frame, std::uint32_t call_index, std::uint32_t sequence);
struct Marker {
  std::uint32_t call_index;
  std::uint32_t sequence;
};
std::optional<Marker> read_marker(const std::uint8_t* frame, std::size_t size);

}  // namespace concierge::bench
