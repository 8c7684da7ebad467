#pragma once
// What the simulated restaurant says, as a pure function of what it heard: no audio, no timers, so every decision is
// testable from text alone. The line (simulated_line.cpp) turns replies into speech and paces them.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "line_settings.hpp"

namespace concierge::sim {

// Tables booked so far, per date and time slot. One per provider (shared by its calls, so a demo that books the
// same slot tables_per_slot times sees the restaurant fill up); no global state.
class BookingLedger {
 public:
  int booked(std::chrono::year_month_day date, int minutes) const;
  void book(std::chrono::year_month_day date, int minutes);

 private:
  std::map<std::pair<int, int>, int> tables_;  // (days since epoch, minutes since midnight) -> tables
};

// A small deterministic generator (SplitMix64): the same seed gives the same restaurant on every platform, which
// std::uniform_*_distribution does not promise.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  double uniform();                        // [0, 1)
  std::uint64_t below(std::uint64_t n);    // [0, n)

 private:
  std::uint64_t state_;
};

class RestaurantDialogue {
 public:
  // A phrase with this call's {placeholders} filled in (the phone menu's prompts use it).
  std::string phrase(std::string_view pattern) const { return say(pattern); }
  enum class State {
    awaiting_request,       // greeted; waiting to hear party size, date and time
    awaiting_offer_answer,  // offered another time
    awaiting_name,
    awaiting_phone,
    awaiting_readback,      // gave the confirmation number
    awaiting_goodbye,       // the business is done (booked, declined, unavailable)
    finished,               // said goodbye; hangs up if the agent does not
  };
  struct Reply {
    std::string text;            // empty: say nothing
    bool hang_up_after = false;  // the restaurant hangs up a little after saying it, unless the agent does first
  };

  RestaurantDialogue(const LineSettings& settings, Scenario scenario, std::shared_ptr<BookingLedger> ledger,
                     std::uint64_t seed);

  std::string greeting() const;
  Reply on_agent_text(std::string_view text);
  Reply on_idle();            // the agent has been silent for idle_prompt
  std::string interruption() const { return settings_.phrases.interrupt; }

  State state() const { return state_; }
  bool waiting_for_agent() const { return state_ != State::finished; }
  const std::string& confirmation_code() const { return code_; }
  std::optional<int> agreed_time() const { return agreed_time_; }
  std::optional<std::chrono::year_month_day> date() const { return date_; }
  std::optional<int> party_size() const { return party_size_; }
  const std::string& customer_name() const { return name_; }
  const std::string& customer_phone() const { return phone_; }

 private:
  Reply decide_availability();
  Reply misunderstood();
  std::string say(std::string_view pattern) const;
  std::string spoken_code();
  std::string spoken_digits(const std::string& code);  // "four five, R as in Robert"
  bool slot_open(std::chrono::year_month_day date, int minutes) const;
  std::optional<int> nearest_free_slot(std::chrono::year_month_day date, int minutes) const;

  const LineSettings& settings_;
  Scenario scenario_;
  std::shared_ptr<BookingLedger> ledger_;
  SplitMix64 random_;
  std::chrono::year_month_day today_;
  State state_ = State::awaiting_request;
  std::optional<int> party_size_;
  std::optional<std::chrono::year_month_day> date_;
  std::optional<int> requested_time_;
  std::optional<int> offered_time_;
  std::optional<int> agreed_time_;
  std::string name_;
  std::string phone_;
  std::string code_;
  std::string code_spoken_;  // decided once, so a repeated code is read the same way
  enum class Asked { nothing, party_size, date, time } asked_ = Asked::nothing;
  int misunderstandings_ = 0;
  int idle_prompts_ = 0;
};

std::string_view to_string(RestaurantDialogue::State state);

}  // namespace concierge::sim
