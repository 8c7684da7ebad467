#pragma once
// The host's side of the C boundary (concierge/abi.h): the host table every C plugin gets, the checks of a C
// descriptor, and the adapters that turn a C plugin's tables into the host's C++ interfaces (TelephonyProvider and
// CallLeg, VoiceModel and VoiceSession, Agent and AgentSession, WebSocketHandler), so that CallBridge, the HTTP
// server and the rest of the daemon never know which boundary a plugin came through.
//
// LIFETIMES (abi.h's OWNERSHIP, enforced here). Each instance has one HostContext (abi.h's concierge_host). It holds
// the library, and everything of the plugin the host keeps holds the context: the instance adapter, each session
// adapter, each armed timer, each posted callback, each blocking work item. So the library stays mapped while any
// of them lives (telephony too: each leg adapter and each media-stream handler holds the instance; a call's events
// that the plugin retained are freed after its destroy()); pending_callbacks() counts the timers, posts and blocking
// work still outstanding. When the
// instance adapter goes (after every session adapter, which hold it), the context is closed first: timers are
// cancelled, posted callbacks and blocking completions are dropped unrun, running blocking work is waited for; then
// the plugin's destroy() runs. What is still queued on the event loop holds only host code and the context; when the
// last of it has gone, the library is unloaded, and nothing of the plugin can run after that.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "concierge/abi.h"
#include "concierge/plugin.hpp"

namespace YAML { class Node; }

namespace concierge::host::c_abi {

// The host's table, one for every C plugin (static).
const concierge_host_api& host_api();

// A checked copy of a plugin's descriptor: every struct copied as far as its struct_size covers, zero beyond.
struct Descriptor {
  std::uint32_t abi_major = 0, abi_minor = 0;
  PluginKind kind = PluginKind::voice_model;
  std::string name, version, description;
  concierge_instance* (*create)(concierge_host*, const concierge_config*, concierge_error*) = nullptr;
  void (*destroy)(concierge_instance*) = nullptr;
  concierge_voice_model_api voice{};
  concierge_telephony_api telephony{};
  concierge_agent_api agent{};
};

// Checks `d` (what concierge_plugin_entry returned) against this host, following abi.h's VERSIONING rule. Returns ""
// and fills `out`, or the reason for the refusal (a sentence to put after "<file>: ").
std::string check_descriptor(const concierge_plugin* d, const std::string& expected_name, Descriptor& out);

// Makes the instance: the config block as JSON with its positions, create(), and the adapter of the plugin's kind.
// A refusal by create() is thrown as PluginLoadError, a config one reading "<config_file>: <key path> (line N):
// <message>" like every config error of the daemon. `library` is what keeps the .so mapped.
PluginInstance create_instance(const Descriptor& descriptor, std::shared_ptr<const void> library,
                               const PluginContext& context, const YAML::Node& config,
                               const std::string& config_key_path, const std::filesystem::path& config_file,
                               const std::filesystem::path& file);

// The config block as JSON text (abi.h's concierge_config.json) and where each key path sits.
struct ConfigPosition {
  std::string key_path;
  std::uint32_t line = 0, column = 0;
};
std::string config_to_json(const YAML::Node& block, const std::string& key_path, std::vector<ConfigPosition>& positions);

// The plugins' own counters and gauges (concierge_host_api.metric_add / metric_set) in Prometheus' text format.
void render_plugin_metrics(std::string& out);

// Counts of what every C plugin's instances still have outstanding (timers, posts, blocking work), for tests.
std::size_t pending_callbacks();

}  // namespace concierge::host::c_abi
