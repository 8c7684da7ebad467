// The reservation agent's readers (plugins/reservation-agent): a booking request as people type it (with the
// structured fields a client may add, as JSON on the first line) through RequestPlanner::plan, and the confirmation
// number extractor and spoken-text helpers on a restaurant's utterance. "Today" is pinned, so the run is the same on
// any date.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/speech/spoken.hpp"
#include "request_planner.hpp"

namespace {
using namespace concierge;
using namespace concierge::reservation;

const RequestPlanner& planner() {
  static const RequestPlanner instance = [] {
    ReservationConfig config;
    config.restaurants = {Restaurant{"Demo Restaurant", "+1234567890", {"demo"}, std::nullopt},
                          Restaurant{"Busy Bistro", "+15550000001", {}, std::nullopt}};
    config.customer = Customer{"Alex Morgan", "+15551230000"};
    config.time_zone = *parse_time_zone("UTC");
    config.today = std::chrono::year{2026} / 11 / 24;
    return RequestPlanner(config, [] {
      return std::chrono::sys_days(std::chrono::year{2026} / 11 / 24) + std::chrono::hours(12);
    });
  }();
  return instance;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  TaskRequest request;
  if (newline != std::string_view::npos) {
    auto fields = nlohmann::json::parse(input.substr(0, newline), nullptr, false);
    if (fields.is_object()) request.fields = std::move(fields);
    input.remove_prefix(newline + 1);
  }
  request.text = std::string(input);
  try {
    const TaskPlan plan = planner().plan(request);
    if (!plan.ready && plan.question.empty()) std::abort();
  } catch (const std::exception&) {
    // plan() may refuse with an exception the host turns into a 500-free answer; it must not crash.
  }
  (void)find_confirmation_code(input);
  (void)normalize_spoken_code(input);
  (void)find_time_of_day(input);
  (void)find_party_size(input);
  (void)find_date(input, std::chrono::year{2026} / 11 / 24);
  (void)parse_number(input);
  return 0;
}
