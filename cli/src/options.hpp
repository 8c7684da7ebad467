#pragma once
// The command line of `concierge` and where it finds the daemon.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace concierge::cli {

enum class Command { interactive, book, status, calls, health, hangup, help, version };

struct Options {
  Command command = Command::interactive;
  std::string server;   // base URL, no trailing slash: "http://localhost:8080"
  bool json = false;    // machine output: the daemon's JSON, nothing else on stdout
  std::optional<double> timeout_seconds;  // book: stop waiting after this long; every request: at most this long
  std::string request;  // book: the words after `book`, joined by spaces
  std::string call_id;  // status, hangup
  // The control API's bearer token ("" = none found) and where it came from, for the 401 message: "--token",
  // "CONCIERGE_API_TOKEN", or the token file's path. token_file is the file looked at, even when absent.
  std::string token;
  std::string token_source;
  std::string token_file;
  bool yes = false;     // book: dial without reading the plan back first (for scripts)
  std::string time_zone;  // the user's zone, sent with each booking ("Europe/Paris"); "" sends none (main.cpp)
};

// Looks a variable up: the process environment, then ./.env (see environment_lookup()).
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The daemon's address: --server, else $CONCIERGE_SERVER, else http://localhost:${SERVER_PORT:-8080} (the port the
// daemon itself reads from the same variable, so a .env that moves the daemon moves the CLI with it).
std::string default_server(const EnvLookup& env);

// The file a daemon listening on `server`'s port writes its generated token to: $CONCIERGE_API_TOKEN_FILE, else
// $XDG_RUNTIME_DIR/concierge/api-token-<port>, else $HOME/.local/state/concierge/api-token-<port> (the daemon's
// default_api_token_file in host/src/api_auth.cpp; keep the two in step). nullopt when `server` is not on this
// machine (localhost, 127.x, [::1]): a local token is never sent to another host.
std::optional<std::string> token_file_for(const std::string& server, const EnvLookup& env);

// argv without the program name. On a usage error, `error` says what is wrong (exit status 2).
struct ParsedArguments {
  std::optional<Options> options;
  std::string error;
};
ParsedArguments parse_arguments(const std::vector<std::string>& args, const EnvLookup& env);

std::string usage_text();

// The machine's named time zone: $TZ when it names one ("Europe/Paris"), else what /etc/localtime links to
// (".../zoneinfo/Europe/Paris"); "" when neither says.
std::string local_time_zone_name(const EnvLookup& env);

// The process environment, then KEY=VALUE lines of ./.env in the working directory (the daemon's .env; only
// simple lines are read here: the CLI needs SERVER_PORT and CONCIERGE_SERVER at most).
EnvLookup environment_lookup();
// The value of `name` in .env-formatted `text`, if a line sets it.
std::optional<std::string> dotenv_value(std::string_view text, std::string_view name);

}  // namespace concierge::cli
