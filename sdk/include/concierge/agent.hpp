#pragma once
// An agent knows the task: it turns what the user asked into a plan for a call, tells the voice model how to hold
// the conversation and which tools it has, runs those tools, and judges the outcome from what was said and done.
#include <memory>
#include <string>
#include <vector>

#include "concierge/call.hpp"
#include "concierge/line_event.hpp"

namespace concierge {

struct TaskRequest {
  std::string text;                                  // natural language, as the user typed it (may be empty)
  nlohmann::json fields = nlohmann::json::object();  // structured fields; they win over what the text says
};

struct TaskPlan {
  bool ready = false;
  std::string question;        // when not ready: what is missing or ambiguous, addressed to the user
  std::string callee_name;     // "Demo Restaurant"
  std::string phone_number;    // E.164
  std::string summary;         // one line for people: "table for 4 at Demo Restaurant, Wed 25 Nov 2026 at 19:00"
  nlohmann::json details = nlohmann::json::object();  // the agent's structured task (echoed into the call record)
  // How the agent read the request, for the user to check before a call is placed (the host returns it from a dry
  // run and with a 422). Agent-defined; the reservation agent's shape is in its README ("What the request parser
  // understands"): {"fields": {<field>: {"value", "text", "begin", "end", "how"}}, "questions": [{"field", "kind",
  // "question", "text"}]}. Never given to the voice model.
  nlohmann::json reading = nlohmann::json::object();
};

struct Outcome {
  bool success = false;
  std::string confirmation_number;  // when the task yields one
  std::string failure_reason;       // when not successful, in words for the user
  nlohmann::json details = nlohmann::json::object();  // what was finally agreed (e.g. another time)
};

// One call's worth of agent state.
class AgentSession {
 public:
  virtual ~AgentSession();
  virtual std::string instructions() const = 0;
  virtual std::vector<ToolDefinition> tools() const = 0;
  virtual ToolResult on_tool_call(const ToolCall& call) = 0;
  virtual void on_transcript(const TranscriptEntry& entry) = 0;
  // The verdict so far; final once the call has ended.
  virtual Outcome outcome() const = 0;

  // ---- SDK 1.5 (the host calls these only on agents built for 1.5 or later) ----
  // Asked once, when the call's media starts: true to have the host run its beep detector on the callee's audio and
  // report each beep's end as a line_event::beep (a voicemail policy that leaves a message after the beep).
  virtual bool listens_for_beep() const { return false; }
  // Something the host learned about the line (concierge/line_event.hpp), on the call's thread. Returns a note for
  // the voice model in words it reads ("" for none): the host hands it to VoiceSession::on_line_event. The event is
  // borrowed for the call.
  virtual std::string on_line_event(const LineEvent& event) {
    (void)event;
    return {};
  }
};

class Agent {
 public:
  virtual ~Agent();
  virtual TaskPlan plan(const TaskRequest& request) const = 0;
  virtual std::unique_ptr<AgentSession> open_session(const TaskPlan& plan) const = 0;
};

}  // namespace concierge
