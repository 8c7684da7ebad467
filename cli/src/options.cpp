#include "options.hpp"

#include <filesystem>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace concierge::cli {

std::string default_server(const EnvLookup& env) {
  if (auto server = env("CONCIERGE_SERVER"); server && !server->empty()) {
    std::string url = *server;
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.find("://") == std::string::npos) url = "http://" + url;
    return url;
  }
  std::string port = "8080";
  if (auto value = env("SERVER_PORT"); value && !value->empty()) port = *value;
  return "http://localhost:" + port;
}

std::optional<std::string> token_file_for(const std::string& server, const EnvLookup& env) {
  // scheme://host[:port][/...]
  const size_t scheme_end = server.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "http" : server.substr(0, scheme_end);
  std::string authority = server.substr(scheme_end == std::string::npos ? 0 : scheme_end + 3);
  authority = authority.substr(0, authority.find('/'));
  if (const size_t at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  std::string host = authority, port = scheme == "https" ? "443" : "80";
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    host = authority.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < authority.size() && authority[close + 1] == ':')
      port = authority.substr(close + 2);
  } else if (const size_t colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  for (auto& c : host)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  const bool local = host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
  if (!local) return std::nullopt;
  if (auto file = env("CONCIERGE_API_TOKEN_FILE"); file && !file->empty()) return *file;
  const std::string name = "/concierge/api-token-" + port;
  if (auto runtime = env("XDG_RUNTIME_DIR"); runtime && !runtime->empty()) return *runtime + name;
  if (auto home = env("HOME"); home && !home->empty()) return *home + "/.local/state" + name;
  return std::nullopt;
}

namespace {

// The first line of `file`, trimmed; "" when it cannot be read.
std::string read_token_file(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) return "";
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
  return line;
}

bool parse_seconds(const std::string& text, double& out) {
  try {
    size_t used = 0;
    out = std::stod(text, &used);
    return used == text.size() && out > 0 && out < 1e7;
  } catch (...) {
    return false;
  }
}

}  // namespace

ParsedArguments parse_arguments(const std::vector<std::string>& args, const EnvLookup& env) {
  Options options;
  std::optional<std::string> server;
  std::optional<std::string> token;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value_of = [&](const std::string& name, std::string& out) -> std::string {
      const std::string with_equals = name + "=";
      if (arg.rfind(with_equals, 0) == 0) {
        out = arg.substr(with_equals.size());
        return "";
      }
      if (i + 1 >= args.size()) return name + " needs a value";
      out = args[++i];
      return "";
    };
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg == "-h" || arg == "--help") {
      options.command = Command::help;
      return {options, ""};
    } else if (arg == "--version") {
      options.command = Command::version;
      return {options, ""};
    } else if (arg == "--server" || arg.rfind("--server=", 0) == 0) {
      std::string value;
      if (auto error = value_of("--server", value); !error.empty()) return {std::nullopt, error};
      while (!value.empty() && value.back() == '/') value.pop_back();
      if (value.empty()) return {std::nullopt, "--server needs a URL such as http://localhost:8080"};
      if (value.find("://") == std::string::npos) value = "http://" + value;
      server = value;
    } else if (arg == "--token" || arg.rfind("--token=", 0) == 0) {
      std::string value;
      if (auto error = value_of("--token", value); !error.empty()) return {std::nullopt, error};
      if (value.empty()) return {std::nullopt, "--token needs the daemon's API token"};
      token = value;
    } else if (arg == "--yes" || (arg == "-y" && positional.empty())) {
      options.yes = true;
    } else if (arg == "--timeout" || arg.rfind("--timeout=", 0) == 0) {
      std::string value;
      if (auto error = value_of("--timeout", value); !error.empty()) return {std::nullopt, error};
      double seconds = 0;
      if (!parse_seconds(value, seconds))
        return {std::nullopt, "--timeout needs a positive number of seconds, not \"" + value + "\""};
      options.timeout_seconds = seconds;
    } else if (arg.size() > 1 && arg[0] == '-' && positional.empty()) {
      return {std::nullopt, "unknown option " + arg};
    } else if (arg.size() > 1 && arg[0] == '-' && positional.front() != "book") {
      return {std::nullopt, "unknown option " + arg};
    } else {
      positional.push_back(arg);  // after `book`, words that start with '-' are part of the request
    }
  }
  options.server = server ? *server : default_server(env);
  // The token: --token, else CONCIERGE_API_TOKEN (environment or .env, as the daemon reads it), else the file a
  // local daemon generated.
  if (token) {
    options.token = *token;
    options.token_source = "--token";
  } else if (auto from_env = env("CONCIERGE_API_TOKEN"); from_env && !from_env->empty()) {
    options.token = *from_env;
    options.token_source = "CONCIERGE_API_TOKEN";
  } else if (auto file = token_file_for(options.server, env)) {
    options.token_file = *file;
    options.token = read_token_file(*file);
    if (!options.token.empty()) options.token_source = *file;
  }

  if (positional.empty()) {
    options.command = Command::interactive;
    return {options, ""};
  }
  const std::string& command = positional[0];
  const size_t extra = positional.size() - 1;
  if (command == "book") {
    for (size_t i = 1; i < positional.size(); ++i) options.request += (i > 1 ? " " : "") + positional[i];
    if (options.request.find_first_not_of(" \t") == std::string::npos)
      return {std::nullopt, "book needs a request, e.g. concierge book \"Book a table at Demo Restaurant for 4 "
                            "people tomorrow at 7pm\""};
    options.command = Command::book;
  } else if (command == "status" || command == "hangup") {
    if (extra != 1) return {std::nullopt, command + " needs exactly one call id"};
    options.call_id = positional[1];
    options.command = command == "status" ? Command::status : Command::hangup;
  } else if (command == "calls" || command == "health" || command == "help") {
    if (extra != 0) return {std::nullopt, command + " takes no arguments"};
    options.command = command == "calls" ? Command::calls : command == "health" ? Command::health : Command::help;
  } else {
    return {std::nullopt, "unknown command \"" + command + "\" (book, status, calls, health, hangup, help)"};
  }
  return {options, ""};
}

std::string local_time_zone_name(const EnvLookup& env) {
  if (auto tz = env("TZ"); tz && !tz->empty() && tz->front() != ':' && tz->find('/') != std::string::npos) return *tz;
  std::error_code error;
  const std::filesystem::path target = std::filesystem::read_symlink("/etc/localtime", error);
  if (error) return "";
  const std::string text = target.string();
  const auto at = text.find("zoneinfo/");
  return at == std::string::npos ? "" : text.substr(at + 9);
}

std::string usage_text() {
  return "Usage: concierge [--server URL] [--token TOKEN] [--json] [--timeout SECONDS] [--yes] [COMMAND]\n"
         "\n"
         "Commands:\n"
         "  (none)               interactive: type requests, \"quit\" to leave\n"
         "  book \"REQUEST\"       book a table: the daemon phones the restaurant; progress is shown live\n"
         "  status CALL_ID       one call: status, transcript, result\n"
         "  calls                every call the daemon knows\n"
         "  hangup CALL_ID       end a running call\n"
         "  health               is the daemon up?\n"
         "\n"
         "Options:\n"
         "  --server URL         the daemon (default: $CONCIERGE_SERVER, else http://localhost:${SERVER_PORT:-8080})\n"
         "  --token TOKEN        the daemon's API token (default: $CONCIERGE_API_TOKEN, else the token file a\n"
         "                       local daemon wrote: $XDG_RUNTIME_DIR/concierge/api-token-PORT or\n"
         "                       ~/.local/state/concierge/api-token-PORT)\n"
         "  --json               print the daemon's JSON instead of text\n"
         "  --timeout SECONDS    stop waiting for a booking after this long (the call itself goes on)\n"
         "  --yes, -y            book at once: do not read the plan back and ask first (for scripts)\n"
         "\n"
         "Exit status: 0 success, 1 the booking or request failed, 2 usage or connection error, 130 interrupted.\n";
}

std::optional<std::string> dotenv_value(std::string_view text, std::string_view name) {
  std::optional<std::string> found;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    if (line.compare(start, 7, "export ") == 0) start = line.find_first_not_of(" \t", start + 7);
    const size_t eq = line.find('=', start);
    if (eq == std::string::npos) continue;
    std::string key = line.substr(start, eq - start);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    if (key != name) continue;
    std::string value = line.substr(eq + 1);
    const size_t first = value.find_first_not_of(" \t");
    value = first == std::string::npos ? "" : value.substr(first);
    if (!value.empty() && (value[0] == '"' || value[0] == '\'')) {
      const size_t close = value.find(value[0], 1);
      value = value.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    } else {
      if (!value.empty() && value[0] == '#' && first > 0) value.clear();  // "KEY=  # comment"
      for (size_t i = 1; i < value.size(); ++i)
        if (value[i] == '#' && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
          value.resize(i);
          break;
        }
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    }
    found = value;  // the last line wins, as in the daemon
  }
  return found;
}

EnvLookup environment_lookup() {
  std::string dotenv;
  if (std::ifstream in(".env"); in) {
    std::ostringstream text;
    text << in.rdbuf();
    dotenv = text.str();
  }
  return [dotenv](std::string_view name) -> std::optional<std::string> {
    if (const char* value = std::getenv(std::string(name).c_str())) return std::string(value);
    return dotenv_value(dotenv, name);
  };
}

}  // namespace concierge::cli
