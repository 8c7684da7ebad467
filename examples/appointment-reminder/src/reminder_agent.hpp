#pragma once
// An agent for a task other than restaurants: call a patient to remind them of an appointment and find out whether
// they will come, cancel, or want another time. Everything the daemon needs from an agent is here:
//   plan()          turns the user's request into a call (or a question when something is missing),
//   open_session()  one AgentSession per call: the voice model's instructions and tools, the tool calls, the verdict.
// Threading: the daemon calls all of these on its event loop thread, one call at a time per session; nothing here
// blocks or keeps a reference to the daemon's objects.
#include <memory>
#include <string>

#include "concierge/agent.hpp"
#include "concierge/config.hpp"

namespace reminder {

struct ReminderSettings {
  std::string clinic;           // who is calling: "Riverside Dental"
  std::string callback_number;  // said to a patient who wants another time; may be empty
};

// Reads the plugin's YAML block; throws concierge::ConfigError naming the key (the daemon adds the file, the
// block's path and the line: "concierge.yaml: plugins.agent.config.clinic (line 40): ...").
ReminderSettings read_settings(const concierge::ConfigNode& config);

class ReminderAgent final : public concierge::Agent {
 public:
  explicit ReminderAgent(ReminderSettings settings) : settings_(std::move(settings)) {}
  // Fields: patient_name, phone_number (E.164), date (YYYY-MM-DD), time (HH:MM). The text may carry the phone
  // number, the date and the time instead ("remind +15551230000 of 2026-12-03 09:30"); fields win.
  concierge::TaskPlan plan(const concierge::TaskRequest& request) const override;
  std::unique_ptr<concierge::AgentSession> open_session(const concierge::TaskPlan& plan) const override;

 private:
  ReminderSettings settings_;
};

}  // namespace reminder
