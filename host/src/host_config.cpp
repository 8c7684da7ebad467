#include "host_config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "api_auth.hpp"
#include "logging.hpp"

namespace concierge::host {
namespace {

std::string compose_message(const std::string& file, const std::string& key_path, int line,
                            const std::string& message) {
  std::string text = file;
  if (!key_path.empty()) text += ": " + key_path;
  if (line > 0) text += " (line " + std::to_string(line) + ")";
  return text + ": " + message;
}

int line_of(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// Interpolates every scalar value in place (yaml-cpp keeps a node's mark when its scalar is replaced), and refuses
// duplicate keys, which yaml-cpp would otherwise resolve silently. `visited` stops an aliased node (*anchor) from
// being expanded twice, which would turn "$${X}" into the value of X.
void interpolate_tree(YAML::Node node, const std::string& path, const Environment& env,
                      std::vector<YAML::Node>& visited) {
  for (const auto& seen : visited)
    if (seen.is(node)) return;
  visited.push_back(node);
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      node = env.interpolate(node.Scalar(), path, line_of(node));
      break;
    case YAML::NodeType::Sequence:
      for (std::size_t i = 0; i < node.size(); ++i)
        interpolate_tree(node[i], path + "[" + std::to_string(i) + "]", env, visited);
      break;
    case YAML::NodeType::Map: {
      std::vector<std::string> keys;
      for (auto entry : node) {
        if (!entry.first.IsScalar())
          throw ConfigError(path, line_of(entry.first), "keys must be plain names, not lists or mappings");
        const std::string key = entry.first.Scalar();
        for (const auto& earlier : keys)
          if (earlier == key) throw ConfigError(join_path(path, key), line_of(entry.first), "duplicate key");
        keys.push_back(key);
        interpolate_tree(entry.second, join_path(path, key), env, visited);
      }
      break;
    }
    default:
      break;
  }
}

// Writes the documented default of every absent optional key into the tree before interpolation, so an absent key
// and the default config's line behave the same (both read SERVER_PORT, LOG_LEVEL, ...).
void insert_defaults(YAML::Node root) {
  if (!root.IsMap()) return;
  auto section = [&](const char* name) -> std::optional<YAML::Node> {
    if (!root[name].IsDefined() || root[name].IsNull()) root[name] = YAML::Node(YAML::NodeType::Map);
    if (!root[name].IsMap()) return std::nullopt;  // validation reports the wrong type
    return root[name];
  };
  auto fill = [](YAML::Node map, const char* key, const char* value) {
    if (!map[key].IsDefined()) map[key] = value;
  };
  if (auto server = section("server")) {
    fill(*server, "host", "${SERVER_HOST:-0.0.0.0}");
    fill(*server, "port", "${SERVER_PORT:-8080}");
    fill(*server, "public_domain", "${PUBLIC_DOMAIN:-}");
    fill(*server, "public_port", "${SERVER_PUBLIC_PORT:-}");
    fill(*server, "public_host", "${SERVER_PUBLIC_HOST:-}");
    fill(*server, "api_token", "${CONCIERGE_API_TOKEN:-}");
    fill(*server, "api_token_file", "${CONCIERGE_API_TOKEN_FILE:-}");
  }
  fill(root, "log_level", "${LOG_LEVEL:-INFO}");
}

bool is_plugin_name(std::string_view name) {
  if (name.empty()) return false;
  auto ok = [](char c, bool first) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return alnum || (!first && (c == '.' || c == '_' || c == '-'));
  };
  for (std::size_t i = 0; i < name.size(); ++i)
    if (!ok(name[i], i == 0)) return false;
  return true;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string normalise_public_domain(const ConfigNode& server, std::string value, std::vector<std::string>& warnings) {
  const std::string original = value;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  bool changed = value != original;
  for (std::string_view scheme : {"https://", "http://", "wss://", "ws://"}) {
    if (lower(value).rfind(scheme, 0) == 0) {
      value.erase(0, scheme.size());
      changed = true;
      break;
    }
  }
  while (!value.empty() && value.back() == '/') {
    value.pop_back();
    changed = true;
  }
  if (value.find_first_of(" \t/?#@\\") != std::string::npos || (changed && value.empty()))
    server.fail("public_domain", "must be a bare host name such as abc123.ngrok.io (no path), found \"" +
                                     original + "\"");
  if (changed)
    warnings.push_back(server.key_path("public_domain") + ": \"" + original +
                       "\" should be a bare host name (no https://, no trailing slash); using \"" + value + "\"");
  return value;
}

std::filesystem::path resolve_against(const std::filesystem::path& base, const std::string& value) {
  std::filesystem::path path(value);
  if (path.is_relative() && !base.empty()) path = base / path;
  return path.lexically_normal();
}

HostConfig::PluginChoice read_plugin_choice(const ConfigNode& plugins, const char* role,
                                            const std::filesystem::path& base) {
  const ConfigNode block = plugins.child(role);
  if (block.yaml().IsNull()) throw ConfigError(block.path(), block.line(), "expected {plugin: <name>, config: {...}}");
  block.allow_only({"plugin", "config"});
  HostConfig::PluginChoice choice;
  const std::string named = block.required_string("plugin");
  const bool is_path = named.find('/') != std::string::npos ||
                       (named.size() > 3 && named.compare(named.size() - 3, 3, ".so") == 0);
  if (is_path) {
    choice.file = resolve_against(base, named);
    choice.plugin = choice.file.stem().string();
    if (choice.file.extension() != ".so" || !is_plugin_name(choice.plugin))
      block.fail("plugin", "\"" + named +
                               "\" is not a plugin file (a path to <name>.so, the name made of letters, digits, '.', "
                               "'_' and '-')");
  } else {
    choice.plugin = named;
    if (!is_plugin_name(choice.plugin))
      block.fail("plugin", "\"" + choice.plugin +
                               "\" is not a plugin name (letters, digits, '.', '_' and '-'; the file <name>.so in "
                               "plugin_dir) nor a path to one (with a '/', ending in .so)");
  }
  choice.key_path = block.key_path("config");
  if (block.has("config")) {
    const YAML::Node config = block.yaml()["config"];
    if (config.IsNull()) {
      choice.config = YAML::Node(YAML::NodeType::Map);
    } else if (!config.IsMap()) {
      block.fail("config", "expected a mapping of the plugin's settings");
    } else {
      choice.config = config;
    }
  } else {
    choice.config = YAML::Node(YAML::NodeType::Map);
  }
  return choice;
}

bool names_a_secret(std::string_view key) {
  const std::string name = lower(key);
  for (std::string_view word : {"key", "token", "secret", "password"})
    if (name.find(word) != std::string::npos) return true;
  return false;
}

void collect_secrets(const YAML::Node& node, bool secret, std::vector<std::string>& out) {
  if (node.IsScalar()) {
    if (secret && !node.Scalar().empty()) out.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    for (const auto& item : node) collect_secrets(item, secret, out);
  } else if (node.IsMap()) {
    for (const auto& entry : node)
      collect_secrets(entry.second, secret || (entry.first.IsScalar() && names_a_secret(entry.first.Scalar())), out);
  }
}

HostConfig validate(const YAML::Node& root_yaml, const std::filesystem::path& file, const std::filesystem::path& base) {
  HostConfig config;
  config.file = file;
  if (root_yaml.IsNull() || !root_yaml.IsDefined())
    throw ConfigError("", 0, "the file is empty; it needs at least a plugins: section");
  const ConfigNode root(root_yaml, "");
  root.allow_only({"server", "log_level", "plugin_dir", "calls", "plugins"});

  const ConfigNode server = root.child("server");
  server.allow_only({"host", "port", "public_domain", "public_port", "public_host", "max_concurrent_calls", "max_message_bytes", "overload_lag_ms",
                     "overload_busy_ratio", "nice", "max_connections", "max_connections_per_client",
                     "idle_timeout_seconds", "trusted_proxies", "api_token", "api_token_file",
                     "metrics_public", "listing_entries_per_second",
                     "listing_entries_per_second_total"});
  config.server_host = server.get_string("host", "");
  if (config.server_host.empty()) server.fail("host", "must not be empty (0.0.0.0 listens on every interface)");
  config.server_port = static_cast<std::uint16_t>(server.get_int("port", 8080, 0, 65535));
  config.public_domain = normalise_public_domain(server, server.get_string("public_domain", ""), config.warnings);
  if (!server.get_string("public_port", "").empty()) {
    config.public_port = static_cast<std::uint16_t>(server.get_int("public_port", 0, 0, 65535));
    if (*config.public_port != 0 && *config.public_port == config.server_port)
      server.fail("public_port", "must differ from server.port " + std::to_string(config.server_port) +
                                     " (the public listener is a second one; leave it empty for one listener)");
  }
  config.public_host = server.get_string("public_host", "");
  config.max_concurrent_calls = static_cast<std::size_t>(server.get_int("max_concurrent_calls", 1000, 1, 100000));
  config.max_message_bytes = static_cast<std::size_t>(server.get_int("max_message_bytes", 65536, 1024, 64 << 20));
  config.overload_lag_ms = server.get_double("overload_lag_ms", 50, 0, 60000);
  config.overload_busy_ratio = server.get_double("overload_busy_ratio", 0.9, 0, 1);
  config.nice = static_cast<int>(server.get_int("nice", 0, -20, 19));
  config.max_connections = static_cast<std::size_t>(server.get_int("max_connections", 10000, 1, 1'000'000));
  config.max_connections_per_client =
      static_cast<std::size_t>(server.get_int("max_connections_per_client", 2000, 1, 1'000'000));
  config.idle_timeout = std::chrono::seconds(server.get_int("idle_timeout_seconds", 30, 1, 3600));
  config.trusted_proxies = server.get_string_list("trusted_proxies");
  for (const auto& proxy : config.trusted_proxies) {
    unsigned char address[16];
    if (inet_pton(AF_INET, proxy.c_str(), address) != 1 && inet_pton(AF_INET6, proxy.c_str(), address) != 1)
      server.fail("trusted_proxies", "\"" + proxy + "\" is not an IP address (write each proxy's address)");
  }
  config.api_token = server.get_string("api_token", "");
  if (!config.api_token.empty())
    if (const std::string problem = api_token_problem(config.api_token); !problem.empty())
      server.fail("api_token", "the API token (CONCIERGE_API_TOKEN) " + problem);
  if (const std::string token_file = server.get_string("api_token_file", ""); !token_file.empty())
    config.api_token_file = resolve_against(base, token_file);
  config.metrics_public = server.get_bool("metrics_public", false);
  config.listing_entries_per_second =
      static_cast<std::size_t>(server.get_int("listing_entries_per_second", 10'000, 0, 100'000'000));
  config.listing_entries_per_second_total =
      static_cast<std::size_t>(server.get_int("listing_entries_per_second_total", 40'000, 0, 100'000'000));

  const std::string level = root.get_string("log_level", "INFO");
  const auto parsed_level = parse_log_level(level);
  if (!parsed_level) root.fail("log_level", "expected DEBUG, INFO, WARNING or ERROR, found \"" + level + "\"");
  config.log_level = *parsed_level;

  // One folder or a list; "" is the daemon's own, in the list too (plugin_dir: [./mine, ""]).
  std::vector<std::string> plugin_dirs;
  if (root.has("plugin_dir") && root.yaml()["plugin_dir"].IsSequence()) {
    for (const YAML::Node& item : root.yaml()["plugin_dir"])
      if (!item.IsScalar()) root.fail("plugin_dir", "expected a folder or a list of folders");
    plugin_dirs = root.get_string_list("plugin_dir");
  } else if (root.has("plugin_dir") && !root.yaml()["plugin_dir"].IsNull() && !root.yaml()["plugin_dir"].IsScalar()) {
    root.fail("plugin_dir", "expected a folder or a list of folders");
  } else {
    plugin_dirs.push_back(root.get_string("plugin_dir", ""));
  }
  if (plugin_dirs.empty()) plugin_dirs.push_back("");
  for (const std::string& dir : plugin_dirs) {
    std::filesystem::path resolved = dir.empty() ? default_plugin_dir() : resolve_against(base, dir);
    if (std::find(config.plugin_dirs.begin(), config.plugin_dirs.end(), resolved) == config.plugin_dirs.end())
      config.plugin_dirs.push_back(std::move(resolved));
  }

  if (const auto calls = root.optional_child("calls")) {
    calls->allow_only({"time_limit_seconds", "inbound", "history_limit", "database", "limits_per_token",
                       "beep_detection"});
    const std::string beep = calls->get_string("beep_detection", "on_request");
    if (beep != "on_request" && beep != "always")
      calls->fail("beep_detection", "expected on_request or always, found \"" + beep + "\"");
    config.beep_detection_always = beep == "always";
    config.call_time_limit = std::chrono::seconds(calls->get_int("time_limit_seconds", 180, 1, 86400));
    config.accept_inbound_calls = calls->get_bool("inbound", false);
    config.history_limit = static_cast<std::size_t>(calls->get_int("history_limit", 1000, 0, 10'000'000));
    const std::string database = calls->get_string("database", "");
    config.database = database.empty() || database == ":memory:" ? database : resolve_against(base, database).string();
    if (const auto limits = calls->optional_child("limits_per_token")) {
      limits->allow_only({"per_minute", "per_hour", "concurrent"});
      auto& q = config.limits_per_token;
      q.per_minute = static_cast<std::size_t>(limits->get_int("per_minute", 10, 0, 1'000'000));
      q.per_hour = static_cast<std::size_t>(limits->get_int("per_hour", 100, 0, 1'000'000));
      q.concurrent = static_cast<std::size_t>(limits->get_int("concurrent", 5, 0, 100'000));
    }
  }

  const ConfigNode plugins = root.child("plugins");
  if (plugins.yaml().IsNull())
    throw ConfigError(plugins.path(), plugins.line(), "expected the telephony, voice_model and agent plugins");
  plugins.allow_only({"telephony", "voice_model", "agent"});
  config.telephony = read_plugin_choice(plugins, "telephony", base);
  config.voice_model = read_plugin_choice(plugins, "voice_model", base);
  config.agent = read_plugin_choice(plugins, "agent", base);
  for (const auto* choice : {&config.telephony, &config.voice_model, &config.agent})
    collect_secrets(choice->config, false, config.secrets);
  return config;
}

}  // namespace

HostConfigError::HostConfigError(std::string file, std::string key_path, int line, std::string message)
    : ConfigError(key_path, line, message),
      file_(std::move(file)),
      full_(compose_message(file_, key_path, line, message)) {}

HostConfigError::HostConfigError(std::string file, const ConfigError& error)
    : HostConfigError(std::move(file), error.key_path(), error.line(), error.message()) {}

HostConfig parse_host_config(std::string_view yaml_text, const std::filesystem::path& file_for_messages,
                             const Environment& env) {
  const std::string file = file_for_messages.string();
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    throw HostConfigError(file, "", e.mark.line >= 0 ? e.mark.line + 1 : 0, "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw HostConfigError(file, "", 0, std::string("YAML error: ") + e.what());
  }
  const std::filesystem::path base =
      file_for_messages.string() == embedded_default_config_name ? std::filesystem::path() : file_for_messages.parent_path();
  try {
    insert_defaults(root);
    std::vector<YAML::Node> visited;
    interpolate_tree(root, "", env, visited);
    return validate(root, file_for_messages, base);
  } catch (const HostConfigError&) {
    throw;
  } catch (const ConfigError& e) {
    throw HostConfigError(file, e);
  } catch (const YAML::Exception& e) {
    // yaml-cpp's own errors past parsing (a bad conversion ConfigNode did not anticipate): still one clear line.
    throw HostConfigError(file, "", e.mark.line >= 0 ? e.mark.line + 1 : 0, e.msg);
  }
}

HostConfig load_host_config(const std::filesystem::path& file, const Environment& env) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw HostConfigError(file.string(), "", 0, std::string("cannot read the config file: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_host_config(text.str(), file, env);
}

std::filesystem::path default_plugin_dir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::filesystem::path("plugins");
  // The build tree keeps the plugins in build/plugins beside build/bin; an installed prefix in
  // <prefix>/lib/concierge/plugins (cmake/ConciergeInstall.cmake).
  const auto build_tree = (exe.parent_path() / ".." / "plugins").lexically_normal();
  const auto installed = (exe.parent_path() / ".." / CONCIERGE_INSTALLED_PLUGIN_DIR).lexically_normal();
  if (!std::filesystem::is_directory(build_tree, ec) && std::filesystem::is_directory(installed, ec)) return installed;
  return build_tree;
}

}  // namespace concierge::host
