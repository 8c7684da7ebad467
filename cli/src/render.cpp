#include "render.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace concierge::cli {
namespace {

std::string text_of(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto found = object.find(key);
  if (found == object.end() || found->is_null()) return "";
  if (found->is_string()) return found->get<std::string>();
  return found->dump();
}

// A value from the result's details (what was agreed), else from the request's details (what was asked).
std::string detail(const nlohmann::json& record, const char* key) {
  const nlohmann::json& result = record.contains("result") ? record["result"] : nlohmann::json();
  if (result.is_object() && result.contains("details")) {
    std::string agreed = text_of(result["details"], key);
    if (!agreed.empty()) return agreed;
  }
  return record.contains("details") ? text_of(record["details"], key) : "";
}

const char* const kTerminal[] = {"completed", "failed", "no-answer", "busy", "canceled", "timed-out"};

bool is_terminal_status(const std::string& status) {
  for (const char* t : kTerminal)
    if (status == t) return true;
  return false;
}

}  // namespace

std::string outcome_words(const std::string& outcome) {
  // The daemon's outcome vocabulary (result.outcome; the SDK's concierge/outcome_kind.hpp spells it).
  if (outcome == "succeeded") return "done";
  if (outcome == "unavailable") return "not available";
  if (outcome == "declined") return "declined";
  if (outcome == "no_answer") return "nobody answered";
  if (outcome == "voicemail") return "voicemail answered, no message left";
  if (outcome == "voicemail_left") return "voicemail answered, a message was left after the beep";
  if (outcome == "menu_dead_end") return "a phone menu answered and none of its options reached a person";
  if (outcome == "not_completed") return "not completed";
  return outcome;  // a word newer than this CLI: shown as it is
}

std::string status_line(const std::string& status, const nlohmann::json& record) {
  if (status == "queued") return "Queued.";
  if (status == "dialing") {
    const std::string name = text_of(record, "callee_name");
    const std::string phone = text_of(record, "phone_number");
    if (name.empty()) return "Dialing " + (phone.empty() ? std::string("the restaurant") : phone) + "...";
    return "Dialing " + name + (phone.empty() ? "" : " (" + phone + ")") + "...";
  }
  if (status == "ringing") return "Ringing...";
  if (status == "in-progress") return "Connected.";
  if (status == "completed") return "Call ended.";
  if (status == "failed") return "Call failed.";
  if (status == "no-answer") return "No answer.";
  if (status == "busy") return "The line is busy.";
  if (status == "canceled") return "Call canceled.";
  if (status == "timed-out") return "Call timed out (the daemon's time limit).";
  return "Status: " + status;
}

std::string transcript_line(const nlohmann::json& entry) {
  const std::string speaker = text_of(entry, "speaker");
  const std::string text = text_of(entry, "text");
  if (speaker == "callee") return "  Restaurant: " + text;
  if (speaker == "agent") return "  Agent: " + text;
  return "  [" + text + "]";
}

bool booking_succeeded(const nlohmann::json& record) {
  const auto result = record.find("result");
  return result != record.end() && result->is_object() && result->value("success", false);
}

bool call_is_over(const nlohmann::json& record) {
  const auto result = record.find("result");
  if (result != record.end() && result->is_object()) return true;
  return is_terminal_status(text_of(record, "status"));
}

std::string result_block(const nlohmann::json& record) {
  std::ostringstream out;
  if (booking_succeeded(record)) {
    const nlohmann::json& result = record["result"];
    std::string restaurant = detail(record, "restaurant");
    if (restaurant.empty()) restaurant = text_of(record, "callee_name");
    auto row = [&](const char* label, const std::string& value) {
      if (!value.empty()) out << "  " << std::left << std::setw(14) << label << value << "\n";
    };
    out << "Reservation confirmed!\n";
    row("Restaurant:", restaurant);
    row("Date:", detail(record, "date"));
    row("Time:", detail(record, "time"));
    row("Party size:", detail(record, "party_size"));
    row("Name:", detail(record, "customer_name"));
    const std::string number = text_of(result, "confirmation_number");
    row("Confirmation:", number.empty() ? "(none given)" : number);
    return out.str();
  }
  std::string reason;
  const auto result = record.find("result");
  if (result != record.end() && result->is_object()) reason = text_of(*result, "failure_reason");
  if (reason.empty()) reason = text_of(record, "status_reason");
  if (reason.empty()) {
    const std::string status = text_of(record, "status");
    reason = status.empty() ? "the call ended without a result" : "the call ended (" + status + ")";
  }
  out << "Booking failed: " << reason << "\n";
  // What kind of failure, when the daemon named one that says more than the reason's first words.
  std::string outcome;
  if (result != record.end() && result->is_object()) {
    outcome = text_of(*result, "outcome");
    if (outcome.empty() && result->contains("details")) outcome = text_of((*result)["details"], "outcome");
  }
  if (!outcome.empty() && outcome != "not_completed" && outcome != "succeeded")
    out << "  Outcome: " << outcome_words(outcome) << "\n";
  return out.str();
}

std::vector<std::string> ProgressTracker::update(const nlohmann::json& record) {
  // New status changes and transcript lines, merged by their time stamps ("at", ISO 8601 UTC, so text order is time
  // order): a poll that sees both the last words and "completed" prints them in the order they happened.
  std::vector<std::pair<std::string, std::string>> events;
  const auto history = record.find("status_history");
  if (history != record.end() && history->is_array()) {
    for (; statuses_shown_ < history->size(); ++statuses_shown_) {
      const nlohmann::json& change = (*history)[statuses_shown_];
      const std::string status = text_of(change, "status");
      if (status == last_status_) continue;
      last_status_ = status;
      if (status != "queued") events.emplace_back(text_of(change, "at"), status_line(status, record));
    }
  } else {
    const std::string status = text_of(record, "status");
    if (!status.empty() && status != last_status_) {
      last_status_ = status;
      if (status != "queued") events.emplace_back(text_of(record, "updated_at"), status_line(status, record));
    }
  }
  const auto transcript = record.find("transcript");
  if (transcript != record.end() && transcript->is_array())
    for (; transcript_shown_ < transcript->size(); ++transcript_shown_) {
      const nlohmann::json& entry = (*transcript)[transcript_shown_];
      events.emplace_back(text_of(entry, "at"), transcript_line(entry));
    }
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return !a.first.empty() && !b.first.empty() && a.first < b.first;
  });
  std::vector<std::string> lines;
  for (auto& event : events) lines.push_back(std::move(event.second));
  return lines;
}

std::string record_text(const nlohmann::json& record) {
  std::ostringstream out;
  out << "Call " << text_of(record, "call_id") << ": " << text_of(record, "status");
  const std::string reason = text_of(record, "status_reason");
  if (!reason.empty()) out << " (" << reason << ")";
  out << "\n";
  const std::string summary = text_of(record, "summary");
  if (!summary.empty()) out << "  " << summary << "\n";
  const std::string name = text_of(record, "callee_name"), phone = text_of(record, "phone_number");
  if (!name.empty() || !phone.empty()) out << "  Calling: " << name << (phone.empty() ? "" : " (" + phone + ")") << "\n";
  out << "  Created: " << text_of(record, "created_at");
  const std::string ended = text_of(record, "ended_at");
  if (!ended.empty()) out << "   Ended: " << ended;
  out << "\n";
  const auto history = record.find("status_history");
  if (history != record.end() && history->is_array() && !history->empty()) {
    out << "  History:";
    for (const auto& h : *history) out << " " << text_of(h, "status");
    out << "\n";
  }
  const auto transcript = record.find("transcript");
  if (transcript != record.end() && transcript->is_array() && !transcript->empty()) {
    out << "Transcript:\n";
    for (const auto& entry : *transcript) out << transcript_line(entry) << "\n";
  }
  if (call_is_over(record)) out << result_block(record);
  return out.str();
}

std::string calls_table(const nlohmann::json& calls_response) {
  const auto calls = calls_response.find("calls");
  if (calls == calls_response.end() || !calls->is_array() || calls->empty()) return "No calls yet.\n";
  std::ostringstream out;
  out << std::left << std::setw(38) << "CALL ID" << std::setw(13) << "STATUS" << std::setw(26) << "CREATED"
      << "SUMMARY\n";
  for (const auto& call : *calls) {
    const std::string status = text_of(call, "status");
    out << std::setw(38) << text_of(call, "call_id") << std::setw(13) << status << std::setw(26)
        << text_of(call, "created_at") << text_of(call, "summary") << "\n";
  }
  return out.str();
}

namespace {

std::string lower_case(std::string text) {
  for (auto& c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

bool is_count(const std::string& answer) {
  static const char* const kWords[] = {"one", "two",   "three",  "four",  "five",   "six",    "seven",
                                       "eight", "nine", "ten",   "eleven", "twelve"};
  if (!answer.empty() && answer.find_first_not_of("0123456789") == std::string::npos) return true;
  const std::string word = lower_case(answer);
  for (const char* w : kWords)
    if (word == w) return true;
  return false;
}

}  // namespace

std::string combine_answer(const std::string& request, const std::string& question, const std::string& answer,
                           bool correction) {
  std::string text = request;
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.pop_back();
  if (!text.empty() && text.back() != '.' && text.back() != '?' && text.back() != '!') text += '.';
  const std::string q = lower_case(question);
  const std::string a = lower_case(answer);
  const bool single_question = std::count(q.begin(), q.end(), '?') == 1;
  std::string phrased = answer;
  if (single_question && q.find("name") != std::string::npos && a.find("name") == std::string::npos &&
      a.find("under") == std::string::npos) {
    phrased = "under the name " + answer;
  } else if (single_question && q.find("how many people") != std::string::npos && is_count(answer)) {
    phrased = "for " + answer + " people";
  }
  // "Did you mean Luigi's Trattoria?" -> "yes": the name itself.
  const auto did_you_mean = q.find("did you mean ");
  if (did_you_mean != std::string::npos &&
      (a == "yes" || a == "y" || a == "yeah" || a == "yep" || a == "right" || a == "correct" || a == "yes please")) {
    const std::size_t from = did_you_mean + 13;
    const std::size_t to = question.find('?', from);
    phrased = question.substr(from, to == std::string::npos ? std::string::npos : to - from);
  }
  // An answer to a doubt, or a change to a plan, corrects what was said before: the reader lets a correction win.
  if (correction && !text.empty()) phrased = "I mean " + phrased;
  return text.empty() ? phrased : text + " " + phrased;
}

std::string error_text(const std::string& body) {
  const auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string())
    return parsed["error"].get<std::string>();
  std::string text = body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text.empty() ? "(no details)" : text;
}

}  // namespace concierge::cli
