#pragma once
// The simulated-telephony plugin's configuration: the restaurant it plays, how fast simulated time runs and which
// scenario each dialled number gets. Read once at startup; every call shares it read-only.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <vector>
#include <optional>
#include <string>
#include <utility>

#include "concierge/config.hpp"
#include "concierge/speech/opening_hours.hpp"
#include "concierge/speech/speech_signal.hpp"

namespace concierge::sim {

// What a dialled number does. `normal` follows the restaurant's probabilities and its table ledger.
enum class ScenarioOutcome { normal, available, busy, no_answer, failed, fully_booked, offer_alternative };
std::string_view to_string(ScenarioOutcome outcome);

struct Scenario {
  ScenarioOutcome outcome = ScenarioOutcome::normal;
  std::optional<int> offer_minutes;  // offer-alternative: the offered time minus the requested one (default +30)
  bool barge_in = false;             // the restaurant talks over the agent's first request once
  // An automated phone menu answers first; a person comes on only after the caller presses 1 (reservations) or 0
  // (someone), heard as DTMF tones in the caller's audio. Other keys are refused and the menu is read again.
  bool phone_menu = false;
  // With phone_menu: false makes it a dead end that no key leaves (RestaurantPhrases::menu_dead_end is read, 1 and 0
  // are refused), so the caller must give up.
  bool menu_reaches_person = true;
  // Voicemail answers: its greeting, then (unless voicemail_beep is false) a 1 kHz beep of half a second, then it
  // records whatever the caller says until a silence, and hangs up.
  bool voicemail = false;
  bool voicemail_beep = true;
};

// Every sentence the restaurant can say, with {placeholders} filled in per call.
struct RestaurantPhrases {
  std::string greeting = "Thank you for calling {restaurant}, this is Sam speaking. How can I help you?";
  std::string ask_party_size = "Sure, for how many people?";
  std::string ask_date = "Okay, and for which day?";
  std::string ask_time = "And what time would you like?";
  std::string available =
      "Let me check. Yes, we have a table for {party_size} on {date} at {time}. Can I get a name for the "
      "reservation?";
  std::string offer =
      "Let me check. I'm sorry, we don't have anything at {requested_time}, but I could do {alternative_time}. "
      "Would that work for you?";
  std::string outside_hours =
      "I'm sorry, on {weekday}s we're open from {open} to {close}. I could do {alternative_time}. Would that work "
      "for you?";
  std::string alternative_accepted = "Great, {time} it is. Can I get a name for the reservation?";
  std::string declined = "No problem, sorry we couldn't help this time. Have a good day!";
  std::string fully_booked = "I'm sorry, we're fully booked on {date}. There's nothing available that evening.";
  std::string closed = "I'm sorry, we're closed on {weekday}s.";
  std::string ask_phone = "Thank you, {name}. And a phone number, in case we need to reach you?";
  std::string confirm =
      "Perfect, you're all set: a table for {party_size} on {date} at {time}. Your confirmation number is {code}.";
  std::string repeat_code = "Sure, it's {code}.";
  std::string readback_correct = "Yes, that's right. We look forward to seeing you!";
  std::string readback_wrong = "No, sorry, it's {code}.";
  std::string goodbye = "Thank you, goodbye!";
  std::string repeat = "Sorry, could you repeat that?";
  std::string give_up = "I'm sorry, I can't understand you. Please call back later. Goodbye.";
  std::string idle = "Hello? Are you still there?";
  std::string interrupt = "Sorry, can you hold on one second? Okay, sorry about that, go ahead.";
  // The phone-menu persona (Scenario::phone_menu).
  std::string menu =
      "Thank you for calling {restaurant}. For our opening hours, press 2. For reservations, press 1. To speak "
      "with someone, press 0.";
  std::string menu_dead_end =
      "Thank you for calling {restaurant}. For our opening hours, press 2. For our address, press 3.";
  std::string menu_address = "We are at 1 Main Street.";
  std::string menu_invalid = "Sorry, that is not a valid option.";
  std::string voicemail_greeting =
      "Hi, you've reached {restaurant}. We can't come to the phone right now. Please leave a message after the tone.";
  std::string menu_hours = "We are open every day from 5 PM to 10 PM.";
  std::string menu_connecting = "Please hold while I connect you.";
  std::string menu_goodbye = "We did not receive a valid selection. Goodbye.";
};


struct LineSettings {
  std::string restaurant_name = "Demo Restaurant";
  std::string restaurant_phone = "+15550000000";
  // Default: every day 17:00-22:00. The shape and rules (split services, past midnight) are the agent's directory's
  // too: concierge/speech/opening_hours.hpp.
  OpeningHours opening_hours = OpeningHours::every_day({{17 * 60, 22 * 60}});
  int tables_per_slot = 8;
  int slot_minutes = 30;
  std::string confirmation_format = "####";  // '#' digit, 'A' letter (never I or O), anything else literal
  RestaurantPhrases phrases;
  double offer_alternative_probability = 0.0;
  double fully_booked_probability = 0.0;
  // Set: every run with the same calls in the same order hears the same restaurant, confirmation numbers included.
  // Unset: the availability draws use seed 1 (as before), but confirmation numbers get a salt drawn once per
  // daemon (code_salt), so runs differ.
  std::optional<std::uint64_t> seed;
  std::uint64_t code_salt = 0;  // not configurable: set by the provider at start (0 when a seed is configured)
  // How staff read a confirmation number out, one style drawn per call: digits ("four five seven two", letters
  // sometimes "R as in Robert"), words ("forty-five seventy-two"), grouped ("double seven", "oh" for zero), nato
  // ("Romeo", "Sierra"), correction (a slip first, then "sorry, that's ..."). Default: digits only.
  std::vector<std::string> confirmation_styles{"digits"};
  SpeechVoice voice{210.0, 170.0, 0.30};
  std::optional<std::chrono::year_month_day> today;  // "today" for resolving dates; default: the UTC date

  // Simulated time; wall time is these divided by speed_up.
  double speed_up = 1.0;
  std::chrono::milliseconds dial{500};
  std::chrono::milliseconds ring{3000};
  std::chrono::milliseconds answer_delay{600};
  std::chrono::milliseconds hangup_after_goodbye{2000};
  std::chrono::milliseconds idle_prompt{8000};
  std::chrono::milliseconds barge_in_after{800};
  int max_repeats = 3;

  std::map<std::string, Scenario> scenarios;  // by dialled number, exactly as OutboundCall::to carries it

  Scenario scenario_for(const std::string& number) const;
};

// Reads the plugin's YAML block (the `config:` mapping of the plugin). Unknown keys are errors; everything has a
// default, so an empty block gives a working restaurant. Throws ConfigError.
LineSettings parse_line_settings(const ConfigNode& block);

// "{name} at {time}" with the given values; unknown placeholders are left as they are (validated at parse time).
std::string fill_placeholders(std::string_view pattern, const std::map<std::string, std::string>& values);

}  // namespace concierge::sim
