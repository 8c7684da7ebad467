// Out-of-line destructors: they anchor each interface's vtable and type information in the SDK library, so the host
// and every plugin agree on one type_info per interface (dynamic_cast and exceptions work across the boundary).
#include "concierge/agent.hpp"
#include "concierge/http.hpp"
#include "concierge/log.hpp"
#include "concierge/plugin.hpp"
#include "concierge/telephony.hpp"
#include "concierge/voice_model.hpp"

#include <stdexcept>

namespace concierge {

CallEvents::~CallEvents() = default;
void CallEvents::on_late_status(const CallStatusUpdate& update) { (void)update; }
CallLeg::~CallLeg() = default;
TelephonyProvider::~TelephonyProvider() = default;
VoiceSessionEvents::~VoiceSessionEvents() = default;
VoiceSession::~VoiceSession() = default;
VoiceModel::~VoiceModel() = default;
AgentSession::~AgentSession() = default;
Agent::~Agent() = default;
Logger::~Logger() = default;
HostServices::~HostServices() = default;
HttpClient& HostServices::http() { throw std::logic_error("this host offers no HTTP client (HostServices::http)"); }
WebSocketPeer::~WebSocketPeer() = default;
WebSocketHandler::~WebSocketHandler() = default;

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "DEBUG";
    case LogLevel::info: return "INFO";
    case LogLevel::warning: return "WARNING";
    case LogLevel::error: return "ERROR";
  }
  return "?";
}

std::string_view to_string(PluginKind kind) {
  switch (kind) {
    case PluginKind::telephony: return "telephony";
    case PluginKind::voice_model: return "voice_model";
    case PluginKind::agent: return "agent";
  }
  return "unknown";
}

std::string AudioFormat::to_string() const {
  return std::string(encoding == AudioEncoding::mulaw ? "mulaw/" : "pcm16/") + std::to_string(sample_rate);
}

}  // namespace concierge
