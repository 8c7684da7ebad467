#pragma once
// Vocabulary shared by the host and every plugin: call states, speakers, transcript entries, tools.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace concierge {

// A call's life. Terminal states are the last six. Names as text follow Twilio's ("in-progress", "no-answer").
enum class CallStatus {
  queued,       // accepted by the host, nothing sent to the provider yet
  dialing,      // the provider has been asked to place the call ("initiated" at Twilio)
  ringing,
  in_progress,  // answered
  completed,
  failed,
  no_answer,
  busy,
  canceled,
  timed_out,    // the host's per-call time limit ran out
};
std::string_view to_string(CallStatus status);
std::optional<CallStatus> call_status_from_string(std::string_view text);
bool is_terminal(CallStatus status);

enum class Speaker { agent, callee, system };
std::string_view to_string(Speaker speaker);

struct TranscriptEntry {
  Speaker speaker = Speaker::system;
  std::string text;
  std::chrono::system_clock::time_point at;
};

// A function the voice model may call. `parameters` is a JSON Schema object, as OpenAI's function tools take it.
struct ToolDefinition {
  std::string name;
  std::string description;
  nlohmann::json parameters = nlohmann::json::object();
};

struct ToolCall {
  std::string id;  // the voice model's id for this call (OpenAI's call_id); echoed back with the result
  std::string name;
  nlohmann::json arguments = nlohmann::json::object();
};

struct ToolResult {
  nlohmann::json output = nlohmann::json::object();  // returned to the voice model
  bool end_call = false;  // the agent wants the call ended once the voice model's last words have been played
};

}  // namespace concierge
