#include "reservation_task.hpp"

#include "concierge/speech/spoken.hpp"
#include "phone_number.hpp"

namespace concierge::reservation {

std::optional<int> parse_hh_mm(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (std::size_t k : {0, 1, 3, 4})
    if (text[k] < '0' || text[k] > '9') return std::nullopt;
  const int hour = (text[0] - '0') * 10 + (text[1] - '0');
  const int minute = (text[3] - '0') * 10 + (text[4] - '0');
  if (hour > 23 || minute > 59) return std::nullopt;
  return hour * 60 + minute;
}

nlohmann::json to_details(const ReservationTask& task) {
  return nlohmann::json{{"restaurant", task.restaurant},
                        {"phone_number", task.phone_number},
                        {"date", format_iso_date(task.date)},
                        {"date_spoken", task.date_spoken},
                        {"time", format_hh_mm(task.time_minutes)},
                        {"time_spoken", say_time(task.time_minutes)},
                        {"party_size", task.party_size},
                        {"customer_name", task.customer_name},
                        {"customer_phone", task.customer_phone},
                        {"time_tolerance_minutes", task.time_tolerance_minutes},
                        {"special_requests", task.special_requests},
                        {"disclosure", task.disclosure},
                        {"voicemail", {{"policy", task.voicemail_message.empty() ? "hang_up" : "leave_message"},
                                       {"message", task.voicemail_message}}}};
}

std::optional<ReservationTask> task_from_details(const nlohmann::json& details, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<ReservationTask> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  if (!details.is_object()) return fail("the plan's details are not an object");
  auto text = [&](const char* key, bool required, std::string& out) -> bool {
    const auto it = details.find(key);
    if (it == details.end() || it->is_null()) return !required;
    if (!it->is_string()) return false;
    out = it->get<std::string>();
    return !(required && out.empty());
  };
  ReservationTask task;
  std::string date, time;
  if (!text("restaurant", true, task.restaurant)) return fail("details.restaurant is missing");
  if (!text("phone_number", true, task.phone_number)) return fail("details.phone_number is missing");
  if (!text("date", true, date)) return fail("details.date is missing");
  if (!text("time", true, time)) return fail("details.time is missing");
  if (!text("date_spoken", false, task.date_spoken) || !text("customer_name", false, task.customer_name) ||
      !text("customer_phone", false, task.customer_phone) ||
      !text("special_requests", false, task.special_requests) || !text("disclosure", false, task.disclosure))
    return fail("a text field of the details is not text");
  auto parsed_date = parse_iso_date(date);
  if (!parsed_date) return fail("details.date \"" + date + "\" is not YYYY-MM-DD");
  task.date = *parsed_date;
  auto parsed_time = parse_hh_mm(time);
  if (!parsed_time) return fail("details.time \"" + time + "\" is not HH:MM");
  task.time_minutes = *parsed_time;
  const auto party = details.find("party_size");
  if (party == details.end() || !party->is_number_integer() || party->get<int>() < 1)
    return fail("details.party_size is not a positive whole number");
  task.party_size = party->get<int>();
  if (const auto tol = details.find("time_tolerance_minutes"); tol != details.end()) {
    if (!tol->is_number_integer() || tol->get<int>() < 0) return fail("details.time_tolerance_minutes is not valid");
    task.time_tolerance_minutes = tol->get<int>();
  }
  if (const auto vm = details.find("voicemail"); vm != details.end() && vm->is_object()) {
    const auto message = vm->find("message");
    if (message != vm->end() && !message->is_string()) return fail("details.voicemail.message is not text");
    if (vm->value("policy", "") == "leave_message" && message != vm->end()) task.voicemail_message = *message;
  }
  if (task.date_spoken.empty()) task.date_spoken = say_date(task.date, task.date);
  return task;
}

std::string summary_line(const ReservationTask& task) {
  return "table for " + std::to_string(task.party_size) + " at " + task.restaurant + ", " + short_date(task.date) +
         " at " + format_hh_mm(task.time_minutes);
}

}  // namespace concierge::reservation
