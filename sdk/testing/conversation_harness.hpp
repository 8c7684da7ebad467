#pragma once
// A host in miniature for tests: one event loop, one call, the simulated line bridged to a voice session exactly
// through the SDK interfaces, as the daemon's call bridge does it:
//
//   line --on_audio(mulaw 8k)--> [decode, resample] --> session.send_audio(input_format)
//   line --on_simulated_callee_text--> session.on_simulated_callee_text
//   line --on_playback_progress--> session.on_playback_progress (and the hang-up after end_call)
//   session --on_audio(output_format)--> [decode, resample to 8k, reframe to 20 ms, encode] --> leg.send_audio
//   session --on_transcript(agent)--> leg.on_simulated_agent_text
//   session --on_interruption--> leg.clear_audio
//   session --on_tool_call--> a fake reservation agent --> session.send_tool_result
//   end_call -> leg.hang_up() once the line has played every agent frame sent
//
// Whole conversations run at speed_up against the wall clock, with a wall-time limit.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "asio_event_loop.hpp"
#include "test_host.hpp"
#include "concierge/audio_frame.hpp"
#include "concierge/call.hpp"
#include "concierge/net/asio.hpp"
#include "concierge/plugin.hpp"
#include "concierge/resampler.hpp"
#include "concierge/telephony.hpp"
#include "concierge/voice_model.hpp"

namespace concierge::testing {

// Collects what plugins log; prints warnings and errors so a failing test shows them.
class TestLogger : public Logger {
 public:
  void write(LogLevel level, std::string_view message) override;
  bool enabled(LogLevel level) const override { return level >= LogLevel::info; }
  std::vector<std::string> lines;
};

// Converts one direction of audio between formats with kept resampler state; buffers are reused.
class FormatConverter {
 public:
  FormatConverter(AudioFormat from, AudioFormat to);
  // Appends the converted samples (as pcm16 at the target rate) to `out_pcm`.
  void to_pcm(const AudioFrame& in, std::vector<std::int16_t>& out_pcm);
  AudioFormat to() const { return to_; }

 private:
  AudioFormat from_;
  AudioFormat to_;
  std::optional<Resampler> resampler_;
  std::vector<std::int16_t> decoded_;
  std::vector<std::int16_t> resampled_;
};

struct ConversationResult {
  std::vector<CallStatus> statuses;
  std::string provider_call_id;
  std::string final_reason;
  std::optional<int> duration_seconds;
  struct Line {
    Speaker speaker;
    std::string text;
  };
  std::vector<Line> transcript;
  std::vector<ToolCall> tool_calls;
  std::optional<nlohmann::json> booking;  // confirm_reservation's arguments, when it was called
  std::string end_reason;                 // end_call's reason
  int interruptions = 0;
  int speech_started = 0;
  int speech_stopped = 0;
  std::uint64_t callee_frames = 0;
  std::uint64_t agent_frames = 0;
  std::vector<std::chrono::microseconds> response_latencies;
  std::vector<std::string> errors;
  bool timed_out = false;
  std::chrono::milliseconds wall{0};

  CallStatus final_status() const { return statuses.empty() ? CallStatus::queued : statuses.back(); }
  std::string transcript_text() const;  // "agent: ...\ncallee: ...\n"
};

struct ConversationSetup {
  std::string number = "+15550000000";
  nlohmann::json task;
  std::vector<ToolDefinition> tools;  // default: confirm_reservation and end_call
  std::chrono::milliseconds wall_limit{8000};
};

// The reservation task of docs/architecture.md, for tests.
nlohmann::json demo_task();

// Places one call through `telephony`, bridges it to a session of `voice`, runs `host`'s loop until the call ends
// (or the wall limit passes) and reports what happened.
ConversationResult run_conversation(TestHost& host, TelephonyProvider& telephony, VoiceModel& voice,
                                    const ConversationSetup& setup);

}  // namespace concierge::testing
