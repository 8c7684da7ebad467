#pragma once
// One call's worth of the reservation agent: the voice model's instructions and tools, what it reported through
// them, the transcript, and the verdict.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/agent.hpp"
#include "concierge/speech/spoken.hpp"
#include "reservation_task.hpp"

namespace concierge::reservation {

// The lines that open and close the booking's data block in the instructions.
inline constexpr std::string_view kBookingDataBegin = "<<<BOOKING_DATA";
inline constexpr std::string_view kBookingDataEnd = "BOOKING_DATA>>>";

class ReservationSession final : public AgentSession {
 public:
  explicit ReservationSession(ReservationTask task);

  std::string instructions() const override;
  std::vector<ToolDefinition> tools() const override;
  ToolResult on_tool_call(const ToolCall& call) override;
  void on_transcript(const TranscriptEntry& entry) override;
  Outcome outcome() const override;
  // SDK 1.5: the host's beep detector runs when the policy leaves a message; a beep's end or the provider's
  // answering-machine verdict opens (or, for a person, closes) the way to leaving it.
  bool listens_for_beep() const override {
    host_tells_line_events_ = true;  // only a host that delivers line events asks
    return !task_.voicemail_message.empty();
  }
  std::string on_line_event(const LineEvent& event) override;

  const ReservationTask& task() const { return task_; }

 private:
  struct Confirmation {
    std::string number;  // normalized (spoken forms turned into characters)
    std::chrono::year_month_day date;
    int time_minutes = 0;
    int party_size = 0;
  };
  struct EndCall {
    std::string reason;  // one of kEndReasons (reservation_session.cpp)
    std::string summary;
  };

  // The verdict before it is named with a word of the SDK's vocabulary (outcome() adds details.outcome).
  Outcome judged_outcome() const;
  ToolResult confirm_reservation(const nlohmann::json& arguments);
  ToolResult end_call(const nlohmann::json& arguments);
  // The last confirmation number the restaurant said, from its side of the transcript.
  std::optional<std::string> code_heard_from_callee() const;
  // Did the restaurant say it has no table?
  bool callee_said_unavailable() const;
  // The last time of day the restaurant mentioned within the tolerance of the requested time.
  std::optional<int> callee_time_within_tolerance() const;
  bool within_tolerance(int minutes) const;

  // The restaurant's last confirmation number, with what it corrected away ("4831, sorry, 4813").
  std::optional<CodeReading> code_reading_from_callee() const;
  // The code in transcript entry `index` (a callee's), read as an answer when the agent had just asked for it.
  std::optional<CodeReading> code_reading_at(std::size_t index) const;
  // A date, time or head count the restaurant said that does not match the request (for the transcript-only
  // verdict), in words; "" when none.
  std::string callee_mismatch() const;

  ReservationTask task_;
  std::optional<Confirmation> confirmation_;
  // Why confirm_reservation was refused for a booking that does not match the request, when it was (the last).
  std::string refused_mismatch_;
  std::optional<EndCall> end_call_;
  std::vector<TranscriptEntry> transcript_;
  // What the line told of a machine: "beep" (the host heard its beep end), or the provider's verdict
  // machine_end_beep / machine_end_silence / machine_end_other; "" while nothing has. A message may be left only
  // after one, and never once the provider said a person answered.
  std::string greeting_ended_by_;
  bool person_answered_ = false;  // the provider's verdict: human
  // The host asked listens_for_beep, so it reports beeps and verdicts: only then does end_call hold voicemail_left
  // to them (through a boundary without line events the instructions' rule is all there is).
  mutable bool host_tells_line_events_ = false;
  std::string keys_pressed_by_callee_;  // DTMF from the callee (line_event::dtmf), in order
};

}  // namespace concierge::reservation
