#pragma once
// The scripted voice model's brain: a deterministic dialogue policy for booking a table, from the structured task
// (docs/architecture.md, "The reservation task") and the callee's words. Pure: text in, a plan of actions out; the
// session (scripted_voice.cpp) turns plans into audio, transcripts and tool calls, so every decision is testable
// from text alone.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace concierge::scripted {

struct ReservationTask {
  std::string restaurant;
  std::string date;         // "2026-11-25"
  std::string date_spoken;  // "Wednesday, November 25"
  int time = 19 * 60;       // minutes since midnight
  std::string time_spoken;  // "7 PM"
  int party_size = 2;
  std::string customer_name;
  std::string customer_phone;
  int time_tolerance_minutes = 60;
  std::string special_requests;
  std::string disclosure;  // said before the request
  std::string voicemail_message;  // said after a voicemail beep; "" hangs up on voicemail instead ("Hi, this is an automated assistant calling on behalf of ...")

  // Reads VoiceSessionConfig::task. Throws std::invalid_argument naming the missing or bad field.
  static ReservationTask from_json(const nlohmann::json& task);
};

// One step of a plan, executed in order: a Say finishes (all its audio delivered) before the next step starts, and a
// CallTool waits for the tool's result.
struct Action {
  enum class Kind { say, call_tool };
  Kind kind = Kind::say;
  std::string text;  // say
  std::string tool;  // call_tool: "confirm_reservation", "end_call", "press_keys"
  nlohmann::json arguments = nlohmann::json::object();

  static Action say(std::string text) { return {Kind::say, std::move(text), {}, {}}; }
  static Action call(std::string tool, nlohmann::json arguments) {
    return {Kind::call_tool, {}, std::move(tool), std::move(arguments)};
  }
};
using Plan = std::vector<Action>;

class DialoguePolicy {
 public:
  enum class Stage {
    waiting_for_greeting,
    negotiating,  // request stated; answering questions, weighing offers
    readback,     // read the confirmation number back, waiting for "yes"
    confirming,   // confirm_reservation called, waiting for its result
    voicemail,    // a voicemail greeting was heard; waiting for its beep to leave the message
    ended,        // end_call planned; says nothing more
  };

  explicit DialoguePolicy(ReservationTask task, int max_misunderstandings = 3);

  Plan on_callee_text(std::string_view text);
  // Does the text read menu options ("press 2", "press two")? Public for tests.
  static bool is_menu(std::string_view text);
  // A phone menu's prompt ("For reservations, press 1. To speak with someone, press 0."): the key to press, the
  // option for reservations first, then one that reaches a person; nullopt for anything else. Public for tests.
  static std::optional<std::string> menu_choice(std::string_view text);
  Plan on_tool_result(std::string_view tool, const nlohmann::json& output);
  Plan on_silence();  // the callee has said nothing for the silence timeout
  // The line's audio carried a voicemail beep (concierge/beep_detector.hpp). The message is left only here.
  Plan on_beep();
  // Does the text sound like a voicemail or answering-machine greeting? Public for tests.
  static bool is_voicemail_greeting(std::string_view text);
  // The callee talked over `said`; the part after what was heard is lost and is said again on "go ahead".
  void on_interrupted(std::string_view said);

  Stage stage() const { return stage_; }
  std::optional<int> agreed_time() const { return agreed_time_; }
  const std::string& confirmation_code() const { return code_; }
  const ReservationTask& task() const { return task_; }

  // How the agent says a phone number: "+15551230000" -> "five five five, one two three, zero zero zero zero".
  static std::string speak_phone_number(std::string_view number);

 private:
  Plan say(std::string text);
  Plan end_call(std::string goodbye, std::string reason, std::string summary);
  Plan misunderstood();
  std::string request_sentence() const;

  ReservationTask task_;
  int max_misunderstandings_;
  Stage stage_ = Stage::waiting_for_greeting;
  std::optional<int> agreed_time_;
  std::string code_;
  std::string last_said_;
  std::string interrupted_;
  int misunderstandings_ = 0;
  int silences_ = 0;
  int menu_presses_ = 0;
  int readback_attempts_ = 0;
};

std::string_view to_string(DialoguePolicy::Stage stage);

}  // namespace concierge::scripted
