#pragma once
// Turning the daemon's JSON into the lines a person reads. Pure functions (and one small state machine) so the
// wording is unit-tested without a daemon.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace concierge::cli {

// The daemon's outcome word (result.outcome: voicemail_left, menu_dead_end, ...) in words for people.
std::string outcome_words(const std::string& outcome);

// "Dialing Demo Restaurant (+1234567890)...", "Ringing...", "Connected.", ... for one status name of the API.
std::string status_line(const std::string& status, const nlohmann::json& record);

// "  Restaurant: Good evening...", "  Agent: Hi, ..." for one transcript entry; system notes in brackets.
std::string transcript_line(const nlohmann::json& entry);

// What a booking came to: the confirmed details, or "Booking failed: <reason>".
std::string result_block(const nlohmann::json& record);
bool booking_succeeded(const nlohmann::json& record);

// The whole record for `concierge status`.
std::string record_text(const nlohmann::json& record);

// The table for `concierge calls`.
std::string calls_table(const nlohmann::json& calls_response);

// True once the daemon will not change the call any more (the result is set, or the status is terminal).
bool call_is_over(const nlohmann::json& record);

// Follows one call's record from poll to poll and returns only what is new: status changes (from status_history,
// so a change between two polls is not lost) and transcript lines.
class ProgressTracker {
 public:
  std::vector<std::string> update(const nlohmann::json& record);

 private:
  size_t statuses_shown_ = 0;
  size_t transcript_shown_ = 0;
  std::string last_status_;
};

// The request to send again after the user answered the daemon's 422 question: the request, a full stop, then the
// answer. A bare answer to a single question is given the words the request parser looks for ("Alex Morgan" to
// "What name should the reservation be under?" becomes "under the name Alex Morgan"; "4" to "How many people...?"
// becomes "for 4 people"), as a person would have written it in the first place. Anything else is appended as is.
// `correction`: the answer settles a doubt or changes a read-back plan, so it is said as a correction ("I mean ...")
// and wins over what it corrects.
std::string combine_answer(const std::string& request, const std::string& question, const std::string& answer,
                           bool correction = false);

// The "error" text of a daemon error body, or the body itself when it is not JSON with an "error".
std::string error_text(const std::string& body);

}  // namespace concierge::cli
