#include "options.hpp"

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

namespace {

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

std::string usage_text() {
  return "Usage: concierge [--server URL] [--json] [--timeout SECONDS] [COMMAND]\n"
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
         "  --json               print the daemon's JSON instead of text\n"
         "  --timeout SECONDS    stop waiting for a booking after this long (the call itself goes on)\n"
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
