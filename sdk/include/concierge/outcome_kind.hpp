#pragma once
// What a call came to, in one word: the SDK's outcome vocabulary (SDK 1.3).
//
// An agent names its outcome with one of these words in Outcome::details["outcome"] (kOutcomeKey). The word rides
// in the existing details field, so Outcome keeps its layout and a plugin built against an older 1.x SDK still
// works; the constants are plain text, so any 1.x host reads the word from any plugin.
//
// The host (host/src/call_bridge.cpp) keeps a word it knows and otherwise derives one (succeeded when
// Outcome::success, no_answer when the line was never answered, else not_completed); the call record's API gives it
// as result.outcome. The CLI's `status` and live view say it in words. The spellings are part of the API and of the
// C ABI (concierge/abi.h mirrors them): a word is only ever added, never renamed.
#include <array>
#include <string_view>

namespace concierge::outcome_kind {

// The key in Outcome::details that carries the word.
inline constexpr std::string_view kOutcomeKey = "outcome";

inline constexpr std::string_view succeeded = "succeeded";      // the task was done (Outcome::success)
inline constexpr std::string_view unavailable = "unavailable";  // what was asked for is not available
inline constexpr std::string_view declined = "declined";        // the callee would not do it, for another reason
inline constexpr std::string_view no_answer = "no_answer";      // nobody answered, or nobody spoke
inline constexpr std::string_view voicemail = "voicemail";      // voicemail answered; no message was left
inline constexpr std::string_view voicemail_left = "voicemail_left";  // voicemail answered; a message was left
                                                                      // after its beep (details.voicemail_message)
inline constexpr std::string_view menu_dead_end = "menu_dead_end";  // a phone menu answered and none of its
                                                                    // options reached a person or the service
inline constexpr std::string_view not_completed = "not_completed";  // ended without the task done, otherwise

inline constexpr std::array<std::string_view, 8> kAll = {succeeded, unavailable,    declined,      no_answer,
                                                         voicemail, voicemail_left, menu_dead_end, not_completed};

// True for a word of the vocabulary above (exact spelling).
constexpr bool is_known(std::string_view word) {
  for (std::string_view known : kAll)
    if (word == known) return true;
  return false;
}

}  // namespace concierge::outcome_kind
