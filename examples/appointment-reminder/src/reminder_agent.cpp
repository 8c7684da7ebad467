#include "reminder_agent.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

namespace reminder {
namespace {

const char* const kAnswers[] = {"confirmed", "cancelled", "reschedule"};

bool is_answer(const std::string& text) {
  return std::find(std::begin(kAnswers), std::end(kAnswers), text) != std::end(kAnswers);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return text;
}

// A field if given as a non-empty string, else the first match of `pattern` in the text, else "".
std::string field_or_text(const concierge::TaskRequest& request, const char* field, const std::regex& pattern) {
  if (auto it = request.fields.find(field); it != request.fields.end() && it->is_string() && !it->empty())
    return it->get<std::string>();
  std::smatch match;
  if (std::regex_search(request.text, match, pattern)) return match.str(0);
  return "";
}

class ReminderSession final : public concierge::AgentSession {
 public:
  ReminderSession(const ReminderSettings& settings, const concierge::TaskPlan& plan)
      : settings_(settings), task_(plan.details) {}

  std::string instructions() const override {
    std::string s = "You are calling on behalf of " + settings_.clinic + " to remind " +
                    task_.value("patient_name", std::string("the patient")) + " of their appointment on " +
                    task_.value("date", std::string()) + " at " + task_.value("time", std::string()) + ".\n";
    s += "Ask whether they will come. Call record_answer with \"confirmed\", \"cancelled\" or \"reschedule\" as soon "
         "as they say.\n";
    if (!settings_.callback_number.empty())
      s += "If they want another time, tell them to call " + settings_.callback_number + ".\n";
    s += "Then thank them, say goodbye and call end_call. Never give medical advice.\n";
    return s;
  }

  std::vector<concierge::ToolDefinition> tools() const override {
    concierge::ToolDefinition record{"record_answer", "Records the patient's answer to the reminder.",
                                     {{"type", "object"},
                                      {"properties",
                                       {{"answer", {{"type", "string"}, {"enum", {"confirmed", "cancelled", "reschedule"}}}},
                                        {"note", {{"type", "string"}}}}},
                                      {"required", {"answer"}}}};
    concierge::ToolDefinition end{"end_call", "Ends the call after the goodbye.",
                                  {{"type", "object"}, {"properties", {{"reason", {{"type", "string"}}}}}}};
    return {record, end};
  }

  // Bad arguments are answered with an error the model can act on, never with an exception.
  concierge::ToolResult on_tool_call(const concierge::ToolCall& call) override {
    concierge::ToolResult result;
    if (call.name == "record_answer") {
      const auto answer = call.arguments.value("answer", std::string());
      if (!is_answer(answer)) {
        result.output = {{"error", "answer must be confirmed, cancelled or reschedule, not \"" + answer + "\""}};
        return result;
      }
      answer_ = answer;
      answer_source_ = "record_answer";
      result.output = {{"ok", true}};
    } else if (call.name == "end_call") {
      result.output = {{"ok", true}};
      result.end_call = true;
    } else {
      result.output = {{"error", "no tool named " + call.name}};
    }
    return result;
  }

  // Without a record_answer, the patient's own words decide (a model may forget the tool).
  void on_transcript(const concierge::TranscriptEntry& entry) override {
    if (entry.speaker != concierge::Speaker::callee || answer_source_ == "record_answer") return;
    const std::string words = lower(entry.text);
    if (words.find("cancel") != std::string::npos) answer_ = "cancelled";
    else if (words.find("reschedule") != std::string::npos || words.find("another time") != std::string::npos)
      answer_ = "reschedule";
    else if (words.find("yes") != std::string::npos || words.find("i'll be there") != std::string::npos)
      answer_ = "confirmed";
    else return;
    answer_source_ = "transcript";
  }

  concierge::Outcome outcome() const override {
    concierge::Outcome o;
    o.success = !answer_.empty();
    if (!o.success) o.failure_reason = "The patient gave no answer to the reminder";
    o.details = {{"answer", answer_}, {"answer_from", answer_source_}, {"clinic", settings_.clinic}};
    return o;
  }

 private:
  const ReminderSettings& settings_;  // owned by the agent, which the daemon keeps alive past every session
  nlohmann::json task_;
  std::string answer_, answer_source_;
};

}  // namespace

ReminderSettings read_settings(const concierge::ConfigNode& config) {
  config.allow_only({"clinic", "callback_number"});
  ReminderSettings settings;
  settings.clinic = config.required_string("clinic");
  settings.callback_number = config.get_string("callback_number", "");
  if (!settings.callback_number.empty() && !std::regex_match(settings.callback_number, std::regex(R"(\+[1-9]\d{6,14})")))
    config.fail("callback_number", "must be an E.164 number like +15550001111, not \"" + settings.callback_number + "\"");
  return settings;
}

concierge::TaskPlan ReminderAgent::plan(const concierge::TaskRequest& request) const {
  concierge::TaskPlan plan;
  const std::string phone = field_or_text(request, "phone_number", std::regex(R"(\+[1-9]\d{6,14})"));
  const std::string date = field_or_text(request, "date", std::regex(R"(\d{4}-\d{2}-\d{2})"));
  const std::string time = field_or_text(request, "time", std::regex(R"(\b\d{1,2}:\d{2}\b)"));
  std::string name = request.fields.value("patient_name", std::string());
  if (phone.empty()) plan.question = "Which phone number should I call (E.164, like +15551230000)?";
  else if (date.empty()) plan.question = "On which date is the appointment (YYYY-MM-DD)?";
  else if (time.empty()) plan.question = "At what time is the appointment (HH:MM)?";
  if (!plan.question.empty()) return plan;
  if (name.empty()) name = "the patient";
  plan.ready = true;
  plan.callee_name = name;
  plan.phone_number = phone;
  plan.summary = "appointment reminder for " + name + " at " + settings_.clinic + ", " + date + " " + time;
  plan.details = {{"patient_name", name}, {"phone_number", phone}, {"date", date}, {"time", time},
                  {"clinic", settings_.clinic}};
  return plan;
}

std::unique_ptr<concierge::AgentSession> ReminderAgent::open_session(const concierge::TaskPlan& plan) const {
  return std::make_unique<ReminderSession>(settings_, plan);
}

}  // namespace reminder
