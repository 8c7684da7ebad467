#pragma once
// The daemon's YAML configuration. Reading it is all-or-nothing: any unknown key, missing or mistyped value or YAML
// syntax error throws HostConfigError, whose what() reads "<file>: <key path> (line N): <message>", and nothing
// falls back to a default because a value was wrong.
//
// Every scalar of the document (the plugin blocks included) is interpolated with Environment::interpolate before
// anything is validated, so `port: ${SERVER_PORT:-8080}` is checked as a number after expansion, and errors keep
// the line of the original text.
//
// Schema (every key optional except plugins.*.plugin; an absent key behaves as written here, environment
// variables included, so a short config still honours the seed's .env names):
//   server:
//     host: "${SERVER_HOST:-0.0.0.0}"
//     port: "${SERVER_PORT:-8080}"             0..65535; 0 binds any free port
//     public_domain: "${PUBLIC_DOMAIN:-}"      a host name (and optional :port) such as abc123.ngrok.io
//     public_port: "${SERVER_PUBLIC_PORT:-}"   "" = one listener for everything (as before); a port (0..65535, 0 =
//                                              any free one) = a second, public listener for the telephony plugin's
//                                              routes (/twiml, /twilio/status, /media-stream) and /health only,
//                                              which the tunnel points at; the control API is then not served
//                                              there (404), nor the telephony routes on server.port (http_api.hpp)
//     public_host: "${SERVER_PUBLIC_HOST:-}"   the public listener's address; "" = server.host
//     max_concurrent_calls: 1000               1..100000
//     max_message_bytes: 65536                 1024..67108864 (HTTP bodies and WebSocket messages)
//     overload_lag_ms: 50                      0..60000; while the event loop runs this far behind (a 10 ms
//                                              timer's lateness), new calls are refused with 503; 0 = never
//     overload_busy_ratio: 0.9                 0..1; and while the event loop's thread works more than this share
//                                              of the time (smoothed over ~0.3 s); 0 = never
//     max_connections: 10000                   1..1000000; open HTTP and WebSocket connections in all; past it a new
//                                              connection is closed at once
//     max_connections_per_client: 2000         1..1000000; the same from one client address (Twilio's media
//                                              streams for many calls may share one)
//     idle_timeout_seconds: 30                 1..3600; an HTTP connection's time to send a request and take its
//                                              answer, and the longest idle keep-alive
//     trusted_proxies: []                      IP addresses of reverse proxies whose X-Forwarded-For names the
//                                              client (for the per-client limit and the logs); no one else's counts
//     nice: 0                                  -20..19; the daemon's scheduling niceness (0 = as started). Below 0
//                                              the media loop wins the CPU from batch work on the same box (needs
//                                              root or CAP_SYS_NICE; without it a warning and the inherited one)
//     api_token: "${CONCIERGE_API_TOKEN:-}"    the control API's bearer token (16..1024 visible ASCII characters);
//                                              "" = the daemon generates one at start into api_token_file
//     api_token_file: "${CONCIERGE_API_TOKEN_FILE:-}"  where a generated token is written (mode 0600); "" =
//                                              $XDG_RUNTIME_DIR/concierge/api-token-<port>, else
//                                              ~/.local/state/concierge/api-token-<port> (see api_auth.hpp)
//     metrics_public: false                    true serves GET /metrics without the token (a Prometheus scraper)
//     listing_entries_per_second: 10000        GET /calls entries one client address may ask for per second (twice
//                                              that in a burst); past it 429 with Retry-After; 0: no budget
//     listing_entries_per_second_total: 40000  the same for all clients together (many addresses, or many clients
//                                              behind a trusted proxy, cannot add up to more); 0: no budget
//   log_level: "${LOG_LEVEL:-INFO}"            DEBUG INFO WARNING ERROR, any case (WARN, CRITICAL accepted)
//   plugin_dir: ""                             one folder or a list of folders, searched in order for
//                                              <name>.so; "" (alone or in the list) = the daemon's own folder,
//                                              <folder of the executable>/../plugins; relative = to the config
//                                              file's folder; [] = ""
//   calls:
//     time_limit_seconds: 180                  1..86400
//     inbound: false                           answer calls a telephony plugin reports as inbound
//     history_limit: 1000                      finished calls kept for GET /calls, 0..10000000
//     beep_detection: on_request               on_request: the beep detector runs on a call's callee audio when its
//                                              agent listens for a voicemail beep; always: on every call
//     database: ""                             SQLite file for call records; "" keeps them in memory; relative =
//                                              to the config file's folder
//     limits_per_token:                        what one API token may place (call_quota.hpp); 0 = no limit.
//       per_minute: 10                         0..1000000; calls placed in the last 60 s (a sliding window)
//       per_hour: 100                          0..1000000; calls placed in the last 3600 s
//       concurrent: 5                          0..100000; its calls in progress at once
//                                              past any: POST /calls answers 429 with Retry-After (seconds)
//   plugins:
//     telephony:   {plugin: simulated-telephony, config: {...}}
//     voice_model: {plugin: scripted-voice, config: {...}}
//     agent:       {plugin: reservation-agent, config: {...}}
//   plugin: is a name (<name>.so searched in the plugin_dir folders) or a path to the .so (it has a '/' or ends in
//   ".so"; relative = to the config file's folder); either way the plugin's descriptor must name it <file stem>.
//
// PUBLIC_DOMAIN: the seed's users are told to paste the ngrok host "WITHOUT the https:// prefix", and getting it
// wrong is the seed's first "Common issue". We accept the forgiving form: a leading http://, https://, ws:// or
// wss:// and trailing slashes are removed, and a warning (in HostConfig::warnings) says so. Anything that is still
// not a host name (a path, spaces, a query) is an error.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "call_quota.hpp"
#include "concierge/config.hpp"
#include "concierge/log.hpp"
#include "env.hpp"

namespace concierge::host {

// A ConfigError that also names the file. key_path(), line() and message() are ConfigError's; what() reads
// "<file>: <key path> (line N): <message>" ("<file> (line N): <message>" when no key is involved).
class HostConfigError : public ConfigError {
 public:
  HostConfigError(std::string file, std::string key_path, int line, std::string message);
  HostConfigError(std::string file, const ConfigError& error);
  const std::string& file() const { return file_; }
  const char* what() const noexcept override { return full_.c_str(); }

 private:
  std::string file_;
  std::string full_;
};

struct HostConfig {
  std::filesystem::path file;  // the YAML file read, or embedded_default_config_name()
  std::string server_host;
  std::uint16_t server_port = 8080;
  std::string public_domain;  // "" when not configured; never with a scheme or a trailing slash
  std::optional<std::uint16_t> public_port;  // the public listener (two faces); nullopt = one listener
  std::string public_host;                   // "" = server_host
  std::size_t max_concurrent_calls = 1000;
  std::size_t max_message_bytes = 65536;
  double overload_lag_ms = 50;  // 0 = never refuse calls for load
  double overload_busy_ratio = 0.9;  // 0 = never refuse calls for the loop's busy share
  int nice = 0;                      // scheduling niceness to set at start; 0 = leave as started
  std::size_t max_connections = 10000;
  std::size_t max_connections_per_client = 2000;
  std::chrono::seconds idle_timeout{30};
  std::vector<std::string> trusted_proxies;
  std::string api_token;             // "" = generate one at start
  std::filesystem::path api_token_file;  // "" = default_api_token_file()
  bool metrics_public = false;
  std::size_t listing_entries_per_second = 10'000;  // server.listing_entries_per_second (0: no budget)
  std::size_t listing_entries_per_second_total = 40'000;  // server.listing_entries_per_second_total (0: none)
  LogLevel log_level = LogLevel::info;
  // Searched in order; each absolute or relative to the working directory; never empty.
  std::vector<std::filesystem::path> plugin_dirs;
  std::chrono::seconds call_time_limit{180};
  bool accept_inbound_calls = false;
  bool beep_detection_always = false;  // calls.beep_detection: always
  std::size_t history_limit = 1000;
  std::string database;  // "" = in memory; otherwise a path usable from the working directory
  CallQuotaLimits limits_per_token;  // 10 per minute, 100 per hour, 5 at once

  struct PluginChoice {
    std::string plugin;  // file name without ".so": [A-Za-z0-9][A-Za-z0-9._-]*
    std::filesystem::path file;  // when `plugin:` was a path: the .so, resolved; empty = search plugin_dirs
    YAML::Node config;   // the plugin's block, interpolated; an empty mapping when absent
    std::string key_path;  // where `config` sits: "plugins.telephony.config"
  } telephony, voice_model, agent;

  // Values of the plugins' settings whose names say they are secret (api_key, auth_token, *secret*, *password*):
  // the daemon masks them in every log line and record, whatever a provider echoes back.
  std::vector<std::string> secrets;

  // Things worth a line in the start-up log (a PUBLIC_DOMAIN that was cleaned up). The logger does not exist yet
  // while the config is read, so the daemon logs these once it does.
  std::vector<std::string> warnings;
};

// Reads and validates `file`. Relative paths inside resolve against the file's folder.
HostConfig load_host_config(const std::filesystem::path& file, const Environment& env);

// The same from text; `file_for_messages` names it in errors and anchors relative paths (its parent folder; the
// working directory when it has none).
HostConfig parse_host_config(std::string_view yaml_text, const std::filesystem::path& file_for_messages,
                             const Environment& env);

// The YAML used when the daemon starts without --config: config/default.yaml, compiled in at build time.
std::string_view embedded_default_config();
// How errors and logs name it.
inline constexpr std::string_view embedded_default_config_name = "<built-in default config>";

// <folder of the running executable>/../plugins, where the build and `cmake --install` put plugins.
std::filesystem::path default_plugin_dir();

}  // namespace concierge::host
