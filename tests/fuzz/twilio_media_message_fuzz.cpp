// Media Streams messages (plugins/twilio): the allocation-free scanner that reads every media and mark message, and
// the timestamp parser. Whatever the bytes, it must classify them without reading out of bounds, and every view it
// returns must lie inside the message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "media_message.hpp"

namespace {
bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge::twilio;
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  MediaMessageView view;
  const ScanResult result = scan_media_message(message, view);
  if (result == ScanResult::media || result == ScanResult::mark) {
    if (!inside(view.stream_sid, message) || !inside(view.payload, message) || !inside(view.track, message) || !inside(view.timestamp, message) ||
        !inside(view.mark_name, message))
      std::abort();
  }
  std::uint64_t us = 0;
  if (result == ScanResult::media && !view.timestamp.empty()) (void)parse_timestamp_ms(view.timestamp, us);
  (void)parse_timestamp_ms(message, us);
  return 0;
}
