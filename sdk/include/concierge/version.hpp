#pragma once
// The SDK's API version. A plugin records the version it was built against in its descriptor (CONCIERGE_PLUGIN).
//
// THE RULE (the host's side is host/src/plugin_loader.cpp)
// - Another major version is refused: anything may differ.
// - A plugin built for a NEWER minor than the host's is refused: it may rely on what the host lacks.
// - A plugin built for an OLDER minor is loaded, and the host never uses anything the SDK added after that minor.
//   Every addition is listed in the history below with the minor that brought it, and the host checks the plugin's
//   minor (LoadedPlugin::sdk_minor, LoadedPlugin::has_sdk_minor) before each use: it reads no descriptor field past
//   the plugin's layout and calls no virtual function the plugin's headers did not have.
// - So a minor bump may only ADD, and only where an older plugin cannot be hurt:
//   - a field at the END of PluginDescriptor (the host reads it only from plugins of that minor or later);
//   - a virtual function at the END of an interface the plugin implements (TelephonyProvider, CallLeg, VoiceModel,
//     VoiceSession, Agent, AgentSession), which the host calls only after checking the plugin's minor;
//   - a virtual function at the END of an interface the host implements (HostServices, CallEvents,
//     VoiceSessionEvents, Logger): an older plugin never calls it;
//   - a member at the END of a struct the host creates and passes by reference (PluginContext, VoiceSessionConfig);
//   - a new function, class or header.
//   Anything else (a changed signature or type, a member removed, reordered or inserted, a struct passed by value
//   or created by the plugin, e.g. PluginInstance, ToolResult, Outcome, TaskPlan, AudioFrame) is a MAJOR bump.
//
// HISTORY
//   1.0  the first SDK.
//   1.1  PluginContext::config_key_path and concierge::plugin_config() (plugin.hpp): a plugin's config errors name
//        the full key path; the host still prefixes it to errors of plugins that use a relative one.
//        PluginDescriptor::size and PluginDescriptor::abi (CONCIERGE_ABI_TAG, concierge/abi.hpp): the host refuses a
//        1.1+ plugin whose descriptor is smaller than the fields of its minor, or whose ABI tag differs from its own.
//        TelephonyProvider::check_destination (a provider's destination policy, asked before POST /calls dials).
//   1.2  HostServices::http() (concierge/http_client.hpp): the host's HTTP client, libcurl's multi interface on the
//        event loop. Host-implemented, at the end of HostServices: an older plugin never calls it.
//        concierge/net/websocket_client.hpp: net::WebSocketClient, net::make_tls_client_context (the WebSocket client
//        the OpenAI plugins share, compiled once in libconcierge_sdk; used inside a plugin, never by the host).
//        concierge/playback_tracker.hpp: PlaybackTracker (what the callee has heard of a reply; barge-in bounds).
//   1.3  concierge/outcome_kind.hpp: the outcome vocabulary (succeeded, unavailable, declined, no_answer, voicemail,
//        voicemail_left, menu_dead_end, not_completed), words an agent puts in Outcome::details["outcome"]. Plain
//        text in an existing field, so the host reads them from a plugin of any minor (no check needed).
//   1.4  CallEvents::on_late_status (telephony.hpp): a provider corrects a call's record after its final status
//        (a create that timed out but went through). Host-implemented, at the end of CallEvents: an older plugin
//        never calls it.
//   1.5  concierge/line_event.hpp: LineEvent, what the host learned about the line besides speech (the beep of an
//        answering machine heard by the host's beep detector, the provider's answering-machine verdict, a key the
//        callee pressed). At the end of AgentSession: listens_for_beep() (the host then runs beep::Detector on the
//        callee's audio) and on_line_event() (returns a note for the voice model); at the end of VoiceSession:
//        on_line_event(). Plugin-implemented: the host calls them only on plugins of 1.5 or later.
//        beep::Detector::in_beep() (a new member function; the class's layout is unchanged).
//   (Header-only additions need no minor: they ask nothing of the host's libraries. concierge/net/websocket_url.hpp,
//   net::parse_websocket_url and net::WebSocketUrl: a configured ws:// or wss:// URL into the client's options.)
//   1.6  HttpClient::start_teardown (http_client.hpp): a request that ends a call at the provider (a hang-up) may
//        use a share of the host's HTTP request cap that ordinary requests cannot fill. Host-implemented, at the end
//        of HttpClient: an older plugin never calls it.
//   (Host-side, no minor: past the whole cap a teardown is queued instead of refused, until its own timeout, and
//   HttpClientLimits::teardown_queue bounds the queue. Only hosts build the client; a plugin's calls are unchanged.)
#include <cstdint>

#define CONCIERGE_SDK_VERSION_MAJOR 1
#define CONCIERGE_SDK_VERSION_MINOR 6

namespace concierge {
inline constexpr std::uint32_t kSdkVersionMajor = CONCIERGE_SDK_VERSION_MAJOR;
inline constexpr std::uint32_t kSdkVersionMinor = CONCIERGE_SDK_VERSION_MINOR;
}  // namespace concierge
