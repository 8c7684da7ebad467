#pragma once
// What the daemon knows about one call: the record the API serves, the store keeps and the CLI shows.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/agent.hpp"
#include "concierge/call.hpp"

namespace concierge::host {

using Clock = std::chrono::system_clock;

struct CallMetrics {
  std::uint64_t frames_from_line = 0;   // callee audio frames received from the telephony provider
  std::uint64_t frames_to_line = 0;     // agent audio frames handed to the telephony provider
  std::uint64_t frames_to_voice = 0;
  std::uint64_t frames_from_voice = 0;
  std::uint64_t interruptions = 0;
  std::uint64_t errors = 0;
  std::uint64_t input_tokens = 0;
  std::uint64_t output_tokens = 0;
  double audio_seconds = 0;  // voice models that bill audio time (GPT-Live), summed over the call
  // Voice-to-voice: the callee stops speaking -> the first agent audio handed to the line.
  std::uint64_t voice_to_voice_count = 0;
  double voice_to_voice_ms_sum = 0;
  double voice_to_voice_ms_max = 0;
  // The model's own view: speech stopped -> its first audio delta.
  std::uint64_t response_latency_count = 0;
  double response_latency_ms_sum = 0;

  nlohmann::json to_json() const;
  static CallMetrics from_json(const nlohmann::json& j);
};

struct CallRecord {
  std::string call_id;
  CallStatus status = CallStatus::queued;
  std::string status_reason;  // the provider's words for the last status (failure reason, "AnsweredBy=...")
  bool inbound = false;
  Clock::time_point created_at;
  Clock::time_point updated_at;
  std::optional<Clock::time_point> ended_at;
  std::string callee_name;
  std::string phone_number;
  std::string summary;
  nlohmann::json details = nlohmann::json::object();
  std::string provider_call_id;
  std::optional<int> duration_seconds;
  std::string answered_by;
  std::vector<std::pair<CallStatus, Clock::time_point>> status_history;
  std::vector<TranscriptEntry> transcript;
  std::optional<Outcome> result;
  CallMetrics metrics;

  nlohmann::json to_json(bool with_transcript) const;
  static CallRecord from_json(const nlohmann::json& j);  // throws nlohmann::json::exception on a bad record
};

}  // namespace concierge::host
