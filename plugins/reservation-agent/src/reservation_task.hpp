#pragma once
// The reservation task: what plan() produces and a session works from. Its JSON form is the "details" schema of
// docs/architecture.md ("The reservation task"), which is also what the voice model is given.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace concierge::reservation {

struct ReservationTask {
  std::string restaurant;    // callee name
  std::string phone_number;  // E.164
  std::chrono::year_month_day date{};
  std::string date_spoken;   // "Wednesday, November 25"
  int time_minutes = 0;      // since midnight
  int party_size = 0;
  std::string customer_name;
  std::string customer_phone;
  int time_tolerance_minutes = 60;
  std::string special_requests;
  // The sentence the call opens with, saying that an automated assistant is calling and for whom (the agent's
  // `disclosure` config with the customer's name filled in); "" when the operator turned it off.
  std::string disclosure;
  // What to say after a voicemail beep, rendered; "" when the policy is to hang up on voicemail.
  std::string voicemail_message;
};

// {"restaurant", "phone_number", "date", "date_spoken", "time", "time_spoken", "party_size", "customer_name",
//  "customer_phone", "time_tolerance_minutes", "special_requests", "disclosure",
//  "voicemail": {"policy": "hang_up" | "leave_message", "message"}}
nlohmann::json to_details(const ReservationTask& task);
// Reads details back (a plan may have travelled through the host's record). nullopt and *error on a bad field.
std::optional<ReservationTask> task_from_details(const nlohmann::json& details, std::string* error);

// Exactly "HH:MM" on a 24-hour clock ("09:30", "19:00") -> minutes since midnight. Structured fields and tool
// arguments use this form, so "10:00" there is ten in the morning (the spoken dinner rule does not apply).
std::optional<int> parse_hh_mm(std::string_view text);

// "table for 4 at Demo Restaurant, Wed 25 Nov 2026 at 19:00"
std::string summary_line(const ReservationTask& task);

}  // namespace concierge::reservation
