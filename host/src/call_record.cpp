#include "call_record.hpp"

#include <ctime>
#include <iomanip>
#include <sstream>

#include "time_format.hpp"

namespace concierge::host {
namespace {
Clock::time_point parse_iso8601(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &millis) < 6)
    throw std::invalid_argument("bad time " + text);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return Clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(millis);
}

Speaker speaker_from(const std::string& s) {
  if (s == "agent") return Speaker::agent;
  if (s == "callee") return Speaker::callee;
  return Speaker::system;
}
}  // namespace

nlohmann::json CallMetrics::to_json() const {
  nlohmann::json j{{"frames_from_line", frames_from_line}, {"frames_to_line", frames_to_line},
                   {"frames_to_voice", frames_to_voice},   {"frames_from_voice", frames_from_voice},
                   {"interruptions", interruptions},       {"errors", errors},
                   {"input_tokens", input_tokens},         {"output_tokens", output_tokens},
                   {"audio_seconds", audio_seconds},
                   {"voice_to_voice_count", voice_to_voice_count},
                   {"voice_to_voice_ms_sum", voice_to_voice_ms_sum},
                   {"voice_to_voice_ms_max", voice_to_voice_ms_max},
                   {"response_latency_count", response_latency_count},
                   {"response_latency_ms_sum", response_latency_ms_sum}};
  j["voice_to_voice_ms_avg"] = voice_to_voice_count ? voice_to_voice_ms_sum / voice_to_voice_count : 0.0;
  j["response_latency_ms_avg"] = response_latency_count ? response_latency_ms_sum / response_latency_count : 0.0;
  return j;
}

CallMetrics CallMetrics::from_json(const nlohmann::json& j) {
  CallMetrics m;
  m.frames_from_line = j.value("frames_from_line", 0ull);
  m.frames_to_line = j.value("frames_to_line", 0ull);
  m.frames_to_voice = j.value("frames_to_voice", 0ull);
  m.frames_from_voice = j.value("frames_from_voice", 0ull);
  m.interruptions = j.value("interruptions", 0ull);
  m.errors = j.value("errors", 0ull);
  m.input_tokens = j.value("input_tokens", 0ull);
  m.output_tokens = j.value("output_tokens", 0ull);
  m.audio_seconds = j.value("audio_seconds", 0.0);
  m.voice_to_voice_count = j.value("voice_to_voice_count", 0ull);
  m.voice_to_voice_ms_sum = j.value("voice_to_voice_ms_sum", 0.0);
  m.voice_to_voice_ms_max = j.value("voice_to_voice_ms_max", 0.0);
  m.response_latency_count = j.value("response_latency_count", 0ull);
  m.response_latency_ms_sum = j.value("response_latency_ms_sum", 0.0);
  return m;
}

nlohmann::json CallRecord::to_json(bool with_transcript) const {
  nlohmann::json j{{"call_id", call_id},
                   {"status", to_string(status)},
                   {"status_reason", status_reason},
                   {"direction", inbound ? "inbound" : "outbound"},
                   {"created_at", iso8601_utc(created_at)},
                   {"updated_at", iso8601_utc(updated_at)},
                   {"ended_at", ended_at ? nlohmann::json(iso8601_utc(*ended_at)) : nlohmann::json()},
                   {"callee_name", callee_name},
                   {"phone_number", phone_number},
                   {"summary", summary},
                   {"details", details},
                   {"provider_call_id", provider_call_id},
                   {"duration_seconds", duration_seconds ? nlohmann::json(*duration_seconds) : nlohmann::json()},
                   {"answered_by", answered_by},
                   {"metrics", metrics.to_json()}};
  auto& history = j["status_history"] = nlohmann::json::array();
  for (const auto& [s, at] : status_history) history.push_back({{"status", to_string(s)}, {"at", iso8601_utc(at)}});
  if (with_transcript) {
    auto& lines = j["transcript"] = nlohmann::json::array();
    for (const auto& e : transcript)
      lines.push_back({{"speaker", to_string(e.speaker)}, {"text", e.text}, {"at", iso8601_utc(e.at)}});
  }
  if (result) {
    j["result"] = {{"success", result->success},
                   {"confirmation_number", result->confirmation_number},
                   {"failure_reason", result->failure_reason},
                   {"details", result->details}};
    // The outcome's word (concierge/outcome_kind.hpp), from details where the bridge put it.
    const auto word = result->details.is_object() ? result->details.find("outcome") : result->details.end();
    j["result"]["outcome"] = word != result->details.end() && word->is_string() ? *word : nlohmann::json();
  } else {
    j["result"] = nullptr;
  }
  return j;
}

CallRecord CallRecord::from_json(const nlohmann::json& j) {
  CallRecord r;
  r.call_id = j.at("call_id").get<std::string>();
  r.status = call_status_from_string(j.at("status").get<std::string>()).value_or(CallStatus::failed);
  r.status_reason = j.value("status_reason", "");
  r.inbound = j.value("direction", "outbound") == "inbound";
  r.created_at = parse_iso8601(j.at("created_at").get<std::string>());
  r.updated_at = parse_iso8601(j.at("updated_at").get<std::string>());
  if (j.contains("ended_at") && j["ended_at"].is_string()) r.ended_at = parse_iso8601(j["ended_at"]);
  r.callee_name = j.value("callee_name", "");
  r.phone_number = j.value("phone_number", "");
  r.summary = j.value("summary", "");
  r.details = j.value("details", nlohmann::json::object());
  r.provider_call_id = j.value("provider_call_id", "");
  if (j.contains("duration_seconds") && j["duration_seconds"].is_number()) r.duration_seconds = j["duration_seconds"];
  r.answered_by = j.value("answered_by", "");
  for (const auto& h : j.value("status_history", nlohmann::json::array()))
    r.status_history.emplace_back(call_status_from_string(h.at("status").get<std::string>()).value_or(CallStatus::failed),
                                  parse_iso8601(h.at("at").get<std::string>()));
  for (const auto& t : j.value("transcript", nlohmann::json::array()))
    r.transcript.push_back({speaker_from(t.value("speaker", "system")), t.value("text", ""),
                            parse_iso8601(t.at("at").get<std::string>())});
  if (j.contains("result") && j["result"].is_object()) {
    const auto& res = j["result"];
    r.result = Outcome{res.value("success", false), res.value("confirmation_number", ""),
                       res.value("failure_reason", ""), res.value("details", nlohmann::json::object())};
  }
  if (j.contains("metrics")) r.metrics = CallMetrics::from_json(j["metrics"]);
  return r;
}

}  // namespace concierge::host
