// The daemon's YAML config: defaults, interpolation, and every class of error with its file, key path and line.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "host_config.hpp"

using concierge::LogLevel;
using concierge::host::Environment;
using concierge::host::HostConfig;
using concierge::host::HostConfigError;
using concierge::host::parse_host_config;

namespace {

constexpr const char* kPlugins =
    "plugins:\n"
    "  telephony: {plugin: simulated-telephony}\n"
    "  voice_model: {plugin: scripted-voice}\n"
    "  agent: {plugin: reservation-agent}\n";

HostConfig parse(const std::string& yaml, const Environment& env = Environment()) {
  return parse_host_config(yaml, "/etc/concierge/test.yaml", env);
}

// what() of the HostConfigError parsing `yaml` throws, or "no error".
std::string error_of(const std::string& yaml, const Environment& env = Environment()) {
  try {
    parse(yaml, env);
  } catch (const HostConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(HostConfig, MinimalFileGetsTheDocumentedDefaults) {
  const HostConfig c = parse(kPlugins);
  EXPECT_EQ(c.file, "/etc/concierge/test.yaml");
  EXPECT_EQ(c.server_host, "0.0.0.0");
  EXPECT_EQ(c.server_port, 8080);
  EXPECT_EQ(c.public_domain, "");
  EXPECT_EQ(c.max_concurrent_calls, 1000u);
  EXPECT_EQ(c.max_message_bytes, 65536u);
  EXPECT_DOUBLE_EQ(c.overload_lag_ms, 50);
  EXPECT_DOUBLE_EQ(c.overload_busy_ratio, 0.9);
  EXPECT_EQ(c.nice, 0);
  EXPECT_EQ(c.log_level, LogLevel::info);
  EXPECT_EQ(c.plugin_dirs, std::vector<std::filesystem::path>{concierge::host::default_plugin_dir()});
  EXPECT_EQ(c.call_time_limit, std::chrono::seconds(180));
  EXPECT_FALSE(c.accept_inbound_calls);
  EXPECT_EQ(c.history_limit, 1000u);
  EXPECT_EQ(c.database, "");
  EXPECT_EQ(c.telephony.plugin, "simulated-telephony");
  EXPECT_EQ(c.voice_model.plugin, "scripted-voice");
  EXPECT_EQ(c.agent.plugin, "reservation-agent");
  EXPECT_EQ(c.telephony.key_path, "plugins.telephony.config");
  EXPECT_EQ(c.agent.key_path, "plugins.agent.config");
  EXPECT_TRUE(c.telephony.config.IsMap());
  EXPECT_EQ(c.telephony.config.size(), 0u);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(HostConfig, AbsentKeysStillReadTheSeedsEnvironmentNames) {
  Environment env;
  env.set("SERVER_HOST", "127.0.0.1");
  env.set("SERVER_PORT", "9090");
  env.set("PUBLIC_DOMAIN", "abc123.ngrok.io");
  env.set("LOG_LEVEL", "debug");
  const HostConfig c = parse(kPlugins, env);
  EXPECT_EQ(c.server_host, "127.0.0.1");
  EXPECT_EQ(c.server_port, 9090);
  EXPECT_EQ(c.public_domain, "abc123.ngrok.io");
  EXPECT_EQ(c.log_level, LogLevel::debug);
}

TEST(HostConfig, EveryValueSet) {
  const HostConfig c = parse(
      "server:\n"
      "  host: 127.0.0.1\n"
      "  port: 0\n"
      "  public_domain: concierge.example.com:8443\n"
      "  max_concurrent_calls: 5\n"
      "  max_message_bytes: 2048\n"
      "  overload_lag_ms: 12.5\n"
      "  overload_busy_ratio: 0.75\n"
      "  nice: -5\n"
      "log_level: warning\n"
      "plugin_dir: ../lib/concierge/plugins\n"
      "calls:\n"
      "  time_limit_seconds: 60\n"
      "  inbound: true\n"
      "  history_limit: 0\n"
      "  database: data/calls.db\n" +
      std::string(kPlugins));
  EXPECT_EQ(c.server_host, "127.0.0.1");
  EXPECT_EQ(c.server_port, 0);
  EXPECT_EQ(c.public_domain, "concierge.example.com:8443");
  EXPECT_EQ(c.max_concurrent_calls, 5u);
  EXPECT_EQ(c.max_message_bytes, 2048u);
  EXPECT_DOUBLE_EQ(c.overload_lag_ms, 12.5);
  EXPECT_DOUBLE_EQ(c.overload_busy_ratio, 0.75);
  EXPECT_EQ(c.nice, -5);
  EXPECT_EQ(c.log_level, LogLevel::warning);
  EXPECT_EQ(c.plugin_dirs, std::vector<std::filesystem::path>{"/etc/lib/concierge/plugins"});  // relative to the config file's folder
  EXPECT_EQ(c.call_time_limit, std::chrono::seconds(60));
  EXPECT_TRUE(c.accept_inbound_calls);
  EXPECT_EQ(c.history_limit, 0u);
  EXPECT_EQ(c.database, "/etc/concierge/data/calls.db");
}

TEST(HostConfig, AbsolutePathsAndMemoryDatabaseStayAsGiven) {
  const HostConfig c = parse("plugin_dir: /opt/plugins\ncalls: {database: \":memory:\"}\n" + std::string(kPlugins));
  EXPECT_EQ(c.plugin_dirs, std::vector<std::filesystem::path>{"/opt/plugins"});
  EXPECT_EQ(c.database, ":memory:");
}

TEST(HostConfig, InterpolatesEveryScalarIncludingPluginBlocks) {
  Environment env;
  env.set("TWILIO_ACCOUNT_SID", "AC123");
  env.set("VOICE", "alloy");
  const HostConfig c = parse(
      "server:\n"
      "  port: \"${SERVER_PORT:-8081}\"\n"
      "calls:\n"
      "  inbound: ${INBOUND:-true}\n"
      "plugins:\n"
      "  telephony:\n"
      "    plugin: ${TELEPHONY:-twilio}\n"
      "    config:\n"
      "      account_sid: ${TWILIO_ACCOUNT_SID}\n"
      "      auth_token: \"${TWILIO_AUTH_TOKEN}\"\n"
      "      price: \"$$5\"\n"
      "      numbers: [\"${VOICE}\", plain]\n"
      "      nested: {voice: \"${VOICE:-echo}\"}\n"
      "  voice_model: {plugin: scripted-voice}\n"
      "  agent: {plugin: reservation-agent}\n",
      env);
  EXPECT_EQ(c.server_port, 8081);
  EXPECT_TRUE(c.accept_inbound_calls);
  EXPECT_EQ(c.telephony.plugin, "twilio");
  const YAML::Node& t = c.telephony.config;
  EXPECT_EQ(t["account_sid"].as<std::string>(), "AC123");
  EXPECT_EQ(t["auth_token"].as<std::string>(), "");
  EXPECT_EQ(t["price"].as<std::string>(), "$5");
  EXPECT_EQ(t["numbers"][0].as<std::string>(), "alloy");
  EXPECT_EQ(t["numbers"][1].as<std::string>(), "plain");
  EXPECT_EQ(t["nested"]["voice"].as<std::string>(), "alloy");
  // The plugin's block keeps the lines of the file, so a plugin's own errors point at the right line.
  EXPECT_EQ(t["account_sid"].Mark().line + 1, 9);
  EXPECT_EQ(t["nested"]["voice"].Mark().line + 1, 13);
}

TEST(HostConfig, AliasedNodesAreInterpolatedOnce) {
  const HostConfig c = parse(
      "plugins:\n"
      "  telephony: {plugin: a, config: {x: &shared \"$${NOT_EXPANDED}\"}}\n"
      "  voice_model: {plugin: b, config: {y: *shared}}\n"
      "  agent: {plugin: c}\n");
  EXPECT_EQ(c.telephony.config["x"].as<std::string>(), "${NOT_EXPANDED}");
  EXPECT_EQ(c.voice_model.config["y"].as<std::string>(), "${NOT_EXPANDED}");
}

TEST(HostConfig, PublicDomainIsCleanedUpWithAWarning) {
  Environment env;
  env.set("PUBLIC_DOMAIN", "https://abc123.ngrok.io/");
  const HostConfig c = parse(kPlugins, env);
  EXPECT_EQ(c.public_domain, "abc123.ngrok.io");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "server.public_domain: \"https://abc123.ngrok.io/\" should be a bare host name (no https://, no trailing "
            "slash); using \"abc123.ngrok.io\"");
  EXPECT_EQ(parse("server: {public_domain: \"WSS://x.example.com//\"}\n" + std::string(kPlugins)).public_domain,
            "x.example.com");
}

TEST(HostConfig, LogLevelsAnyCase) {
  auto level = [](const char* text) { return parse(std::string("log_level: ") + text + "\n" + kPlugins).log_level; };
  EXPECT_EQ(level("DEBUG"), LogLevel::debug);
  EXPECT_EQ(level("Info"), LogLevel::info);
  EXPECT_EQ(level("WARN"), LogLevel::warning);
  EXPECT_EQ(level("error"), LogLevel::error);
  EXPECT_EQ(level("CRITICAL"), LogLevel::error);
}

TEST(HostConfig, LoadFromFileAndMissingFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("concierge-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "c.yaml") << "plugin_dir: plugins\n" << kPlugins;
  }
  const HostConfig c = concierge::host::load_host_config(dir / "c.yaml", Environment());
  EXPECT_EQ(c.plugin_dirs, std::vector<std::filesystem::path>{dir / "plugins"});
  try {
    concierge::host::load_host_config(dir / "missing.yaml", Environment());
    ADD_FAILURE() << "no error for a missing file";
  } catch (const HostConfigError& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "missing.yaml").string() +
                                         ": cannot read the config file: No such file or directory");
  }
  std::filesystem::remove_all(dir);
}

TEST(HostConfig, TheEmbeddedDefaultIsTheShippedDefaultYaml) {
  std::ifstream in(std::string(CONCIERGE_SOURCE_DIR) + "/config/default.yaml", std::ios::binary);
  ASSERT_TRUE(in);
  const std::string shipped((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(concierge::host::embedded_default_config(), shipped);
  const HostConfig c = parse_host_config(concierge::host::embedded_default_config(),
                                         std::string(concierge::host::embedded_default_config_name), Environment());
  EXPECT_EQ(c.telephony.plugin, "simulated-telephony");
  EXPECT_EQ(c.voice_model.plugin, "scripted-voice");
  EXPECT_EQ(c.agent.plugin, "reservation-agent");
  EXPECT_EQ(c.server_port, 8080);
}

TEST(HostConfig, ErrorsCarryFileAndCodeApiFields) {
  try {
    parse("server: {port: 70000}\n" + std::string(kPlugins));
    FAIL() << "no error";
  } catch (const concierge::ConfigError& e) {  // catchable as the SDK's ConfigError
    EXPECT_EQ(e.key_path(), "server.port");
    EXPECT_EQ(e.line(), 1);
    EXPECT_EQ(e.message(), "must be between 0 and 65535, found 70000");
    EXPECT_EQ(dynamic_cast<const HostConfigError&>(e).file(), "/etc/concierge/test.yaml");
  }
}

// Every class of mistake, with the exact line a person reads.
TEST(HostConfigErrors, YamlSyntax) {
  EXPECT_EQ(error_of("server:\n  port: [8080\nplugins: {}\n"),
            "/etc/concierge/test.yaml (line 3): YAML syntax error: end of sequence flow not found");
  EXPECT_EQ(error_of("log_level: a: b\n"), "/etc/concierge/test.yaml (line 1): YAML syntax error: illegal map value");
  EXPECT_EQ(error_of("server:\n  host: a\n port: 3\n"),
            "/etc/concierge/test.yaml (line 3): YAML syntax error: end of map not found");
}

TEST(HostConfigErrors, EmptyFile) {
  EXPECT_EQ(error_of(""), "/etc/concierge/test.yaml: the file is empty; it needs at least a plugins: section");
  EXPECT_EQ(error_of("# only a comment\n"),
            "/etc/concierge/test.yaml: the file is empty; it needs at least a plugins: section");
}

TEST(HostConfigErrors, TopLevelNotAMapping) {
  EXPECT_EQ(error_of("- a\n- b\n"), "/etc/concierge/test.yaml (line 1): expected a mapping, found a list");
}

TEST(HostConfigErrors, UnknownTopLevelKey) {
  EXPECT_EQ(error_of(std::string(kPlugins) + "loglevel: DEBUG\n"),
            "/etc/concierge/test.yaml: loglevel (line 5): unknown key (known keys here: server, log_level, "
            "plugin_dir, calls, plugins)");
}

TEST(HostConfigErrors, UnknownServerKey) {
  EXPECT_EQ(error_of("server:\n  host: 0.0.0.0\n  prot: 8080\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.prot (line 3): unknown key (known keys here: host, port, "
            "public_domain, public_port, public_host, max_concurrent_calls, max_message_bytes, overload_lag_ms, overload_busy_ratio, nice, "
            "max_connections, max_connections_per_client, idle_timeout_seconds, trusted_proxies, api_token, "
            "api_token_file, metrics_public, listing_entries_per_second, listing_entries_per_second_total)");
}

TEST(HostConfigErrors, UnknownPluginChoiceKey) {
  EXPECT_EQ(error_of("plugins:\n"
                     "  telephony: {plugin: twilio, settings: {}}\n"
                     "  voice_model: {plugin: scripted-voice}\n"
                     "  agent: {plugin: reservation-agent}\n"),
            "/etc/concierge/test.yaml: plugins.telephony.settings (line 2): unknown key (known keys here: plugin, "
            "config)");
}

TEST(HostConfigErrors, UnknownPluginRole) {
  EXPECT_EQ(error_of(std::string(kPlugins) + "  speech: {plugin: whisper}\n"),
            "/etc/concierge/test.yaml: plugins.speech (line 5): unknown key (known keys here: telephony, "
            "voice_model, agent)");
}

TEST(HostConfigErrors, MissingPluginsSection) {
  EXPECT_EQ(error_of("log_level: INFO\n"), "/etc/concierge/test.yaml: plugins (line 1): required section is missing");
}

TEST(HostConfigErrors, MissingPluginRole) {
  EXPECT_EQ(error_of("plugins:\n  telephony: {plugin: twilio}\n  agent: {plugin: reservation-agent}\n"),
            "/etc/concierge/test.yaml: plugins.voice_model (line 2): required section is missing");
}

TEST(HostConfigErrors, MissingPluginName) {
  EXPECT_EQ(error_of("plugins:\n"
                     "  telephony:\n"
                     "    config: {}\n"
                     "  voice_model: {plugin: scripted-voice}\n"
                     "  agent: {plugin: reservation-agent}\n"),
            "/etc/concierge/test.yaml: plugins.telephony.plugin (line 3): required value is missing");
}

TEST(HostConfigErrors, PluginNameFromAnUnsetVariable) {
  EXPECT_EQ(error_of("plugins:\n"
                     "  telephony: {plugin: \"${TELEPHONY_PLUGIN}\"}\n"
                     "  voice_model: {plugin: scripted-voice}\n"
                     "  agent: {plugin: reservation-agent}\n"),
            "/etc/concierge/test.yaml: plugins.telephony.plugin (line 2): required value is empty (is its "
            "environment variable set?)");
}

TEST(HostConfigErrors, PluginNeitherANameNorAPathToASharedObject) {
  EXPECT_EQ(error_of("plugins:\n"
                     "  telephony: {plugin: ../../tmp/evil}\n"
                     "  voice_model: {plugin: scripted-voice}\n"
                     "  agent: {plugin: reservation-agent}\n"),
            "/etc/concierge/test.yaml: plugins.telephony.plugin (line 2): \"../../tmp/evil\" is not a plugin file (a "
            "path to <name>.so, the name made of letters, digits, '.', '_' and '-')");
  EXPECT_EQ(error_of("plugins:\n"
                     "  telephony: {plugin: \"my agent\"}\n"
                     "  voice_model: {plugin: scripted-voice}\n"
                     "  agent: {plugin: reservation-agent}\n"),
            "/etc/concierge/test.yaml: plugins.telephony.plugin (line 2): \"my agent\" is not a plugin name (letters, "
            "digits, '.', '_' and '-'; the file <name>.so in plugin_dir) nor a path to one (with a '/', ending in .so)");
}

// plugin: a path, relative to the config file's folder or absolute; the name is the file's stem.
TEST(HostConfig, PluginGivenAsAPath) {
  const HostConfig c = parse("plugins:\n"
                             "  telephony: {plugin: ../build/my-line.so}\n"
                             "  voice_model: {plugin: /opt/voices/my-voice.so}\n"
                             "  agent: {plugin: reservation-agent}\n");
  EXPECT_EQ(c.telephony.plugin, "my-line");
  EXPECT_EQ(c.telephony.file, "/etc/build/my-line.so");
  EXPECT_EQ(c.voice_model.plugin, "my-voice");
  EXPECT_EQ(c.voice_model.file, "/opt/voices/my-voice.so");
  EXPECT_EQ(c.agent.plugin, "reservation-agent");
  EXPECT_TRUE(c.agent.file.empty());  // searched in plugin_dir
}

// plugin_dir: a list, searched in order; relative to the config's folder; "" is the daemon's own folder.
TEST(HostConfig, PluginDirIsAListOfFolders) {
  const HostConfig c = parse("plugin_dir: [mine, /opt/plugins, \"\", mine]\n" + std::string(kPlugins));
  EXPECT_EQ(c.plugin_dirs, (std::vector<std::filesystem::path>{"/etc/concierge/mine", "/opt/plugins",
                                                               concierge::host::default_plugin_dir()}));
  EXPECT_EQ(parse("plugin_dir: []\n" + std::string(kPlugins)).plugin_dirs,
            std::vector<std::filesystem::path>{concierge::host::default_plugin_dir()});
  EXPECT_EQ(parse("plugin_dir: [/opt/plugins]\n" + std::string(kPlugins)).plugin_dirs,
            std::vector<std::filesystem::path>{"/opt/plugins"});
}

TEST(HostConfigErrors, PluginConfigNotAMapping) {
  EXPECT_EQ(error_of("plugins:\n"
                     "  telephony:\n"
                     "    plugin: twilio\n"
                     "    config: [a, b]\n"
                     "  voice_model: {plugin: scripted-voice}\n"
                     "  agent: {plugin: reservation-agent}\n"),
            "/etc/concierge/test.yaml: plugins.telephony.config (line 4): expected a mapping of the plugin's settings");
}

TEST(HostConfigErrors, PluginRoleIsAScalar) {
  EXPECT_EQ(error_of("plugins:\n"
                     "  telephony: twilio\n"
                     "  voice_model: {plugin: scripted-voice}\n"
                     "  agent: {plugin: reservation-agent}\n"),
            "/etc/concierge/test.yaml: plugins.telephony (line 2): expected a mapping, found \"twilio\"");
}

TEST(HostConfigErrors, PortNotANumber) {
  EXPECT_EQ(error_of("server:\n  port: http\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.port (line 2): expected a whole number, found \"http\"");
}

TEST(HostConfigErrors, PortFromTheEnvironmentNotANumber) {
  Environment env;
  env.set("SERVER_PORT", "80a");
  EXPECT_EQ(error_of("server:\n  port: ${SERVER_PORT:-8080}\n" + std::string(kPlugins), env),
            "/etc/concierge/test.yaml: server.port (line 2): expected a whole number, found \"80a\"");
  // Also when the key is absent and the documented default reads the variable.
  EXPECT_EQ(error_of("server:\n  host: 0.0.0.0\n" + std::string(kPlugins), env),
            "/etc/concierge/test.yaml: server.port (line 2): expected a whole number, found \"80a\"");
}

TEST(HostConfigErrors, PortOutOfRange) {
  EXPECT_EQ(error_of("server: {port: 65536}\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.port (line 1): must be between 0 and 65535, found 65536");
  EXPECT_EQ(error_of("server: {port: -1}\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.port (line 1): must be between 0 and 65535, found -1");
}

TEST(HostConfigErrors, MaxConcurrentCallsZero) {
  EXPECT_EQ(error_of("server:\n  max_concurrent_calls: 0\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.max_concurrent_calls (line 2): must be between 1 and 100000, found 0");
}

TEST(HostConfigErrors, OverloadAndNiceOutOfRange) {
  EXPECT_EQ(error_of("server:\n  overload_busy_ratio: 1.5\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.overload_busy_ratio (line 2): must be between 0 and 1, found 1.5");
  EXPECT_EQ(error_of("server:\n  nice: -21\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.nice (line 2): must be between -20 and 19, found -21");
}

TEST(HostConfigErrors, MaxMessageBytesTooSmall) {
  EXPECT_EQ(error_of("server:\n  max_message_bytes: 100\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.max_message_bytes (line 2): must be between 1024 and 67108864, found "
            "100");
}

TEST(HostConfigErrors, OverloadLagOutOfRange) {
  EXPECT_EQ(error_of("server:\n  overload_lag_ms: -1\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.overload_lag_ms (line 2): must be between 0 and 60000, found -1");
  EXPECT_EQ(error_of("server:\n  overload_lag_ms: soon\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.overload_lag_ms (line 2): expected a number, found \"soon\"");
}

TEST(HostConfig, OverloadLagDefaultsTo50AndZeroTurnsItOff) {
  EXPECT_DOUBLE_EQ(parse(std::string(kPlugins)).overload_lag_ms, 50);
  EXPECT_DOUBLE_EQ(parse("server:\n  overload_lag_ms: 0\n" + std::string(kPlugins)).overload_lag_ms, 0);
}

TEST(HostConfigErrors, EmptyHost) {
  EXPECT_EQ(error_of("server:\n  host: \"\"\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.host (line 2): must not be empty (0.0.0.0 listens on every interface)");
}

TEST(HostConfigErrors, BadLogLevel) {
  EXPECT_EQ(error_of("log_level: verbose\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: log_level (line 1): expected DEBUG, INFO, WARNING or ERROR, found \"verbose\"");
  Environment env;
  env.set("LOG_LEVEL", "TRACE");
  EXPECT_EQ(error_of("log_level: \"${LOG_LEVEL:-INFO}\"\n" + std::string(kPlugins), env),
            "/etc/concierge/test.yaml: log_level (line 1): expected DEBUG, INFO, WARNING or ERROR, found \"TRACE\"");
}

TEST(HostConfigErrors, InboundNotABool) {
  EXPECT_EQ(error_of("calls:\n  inbound: maybe\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: calls.inbound (line 2): expected true or false, found \"maybe\"");
}

TEST(HostConfigErrors, TimeLimitZero) {
  EXPECT_EQ(error_of("calls:\n  time_limit_seconds: 0\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: calls.time_limit_seconds (line 2): must be between 1 and 86400, found 0");
}

TEST(HostConfigErrors, UnknownCallsKey) {
  EXPECT_EQ(error_of("calls:\n  timeout: 30\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: calls.timeout (line 2): unknown key (known keys here: time_limit_seconds, "
            "inbound, history_limit, database, limits_per_token, beep_detection)");
}

TEST(HostConfigErrors, BeepDetectionIsOnRequestOrAlways) {
  EXPECT_EQ(error_of("calls:\n  beep_detection: sometimes\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: calls.beep_detection (line 2): expected on_request or always, found "
            "\"sometimes\"");
}

TEST(HostConfigErrors, PublicPortMustDifferFromPort) {
  EXPECT_EQ(error_of("server:\n  port: 8080\n  public_port: 8080\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.public_port (line 3): must differ from server.port 8080 (the public "
            "listener is a second one; leave it empty for one listener)");
  EXPECT_NE(error_of("server:\n  public_port: 70000\n" + std::string(kPlugins)).find("server.public_port (line 2)"),
            std::string::npos);
}

TEST(HostConfigErrors, CallLimitsPerToken) {
  EXPECT_EQ(error_of("calls:\n  limits_per_token: {per_day: 3}\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: calls.limits_per_token.per_day (line 2): unknown key (known keys here: "
            "per_minute, per_hour, concurrent)");
  EXPECT_NE(error_of("calls:\n  limits_per_token: {concurrent: 100001}\n" + std::string(kPlugins))
                .find("calls.limits_per_token.concurrent (line 2)"),
            std::string::npos);
}

TEST(HostConfigErrors, SectionOfTheWrongType) {
  EXPECT_EQ(error_of("server: 8080\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server (line 1): expected a mapping, found \"8080\"");
  EXPECT_EQ(error_of("calls: [1, 2]\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: calls (line 1): expected a mapping, found a list");
}

TEST(HostConfigErrors, ScalarWhereTextExpected) {
  EXPECT_EQ(error_of("log_level: [a, b]\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: log_level (line 1): expected a text value, found a list");
  EXPECT_EQ(error_of("plugin_dir: {a: b}\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: plugin_dir (line 1): expected a folder or a list of folders");
  EXPECT_EQ(error_of("plugin_dir: [a, [b]]\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: plugin_dir (line 1): expected a folder or a list of folders");
}

TEST(HostConfigErrors, DuplicateKey) {
  EXPECT_EQ(error_of("server:\n  port: 8080\n  port: 9090\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.port (line 3): duplicate key");
}

TEST(HostConfigErrors, MalformedInterpolationInsideAPluginBlock) {
  EXPECT_EQ(error_of("plugins:\n"
                     "  telephony:\n"
                     "    plugin: twilio\n"
                     "    config:\n"
                     "      numbers: [\"+1555\", \"${OTHER_NUMBER\"]\n"
                     "  voice_model: {plugin: scripted-voice}\n"
                     "  agent: {plugin: reservation-agent}\n"),
            "/etc/concierge/test.yaml: plugins.telephony.config.numbers[1] (line 5): malformed ${...} in "
            "\"${OTHER_NUMBER\": missing the closing '}'");
}

TEST(HostConfigErrors, PublicDomainWithAPath) {
  EXPECT_EQ(error_of("server:\n  public_domain: https://abc.ngrok.io/media-stream\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.public_domain (line 2): must be a bare host name such as "
            "abc123.ngrok.io (no path), found \"https://abc.ngrok.io/media-stream\"");
}

TEST(HostConfigErrors, PublicDomainThatIsOnlyAScheme) {
  EXPECT_EQ(error_of("server:\n  public_domain: https://\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml: server.public_domain (line 2): must be a bare host name such as "
            "abc123.ngrok.io (no path), found \"https://\"");
}

TEST(HostConfigErrors, NonScalarKey) {
  EXPECT_EQ(error_of("? [a, b]\n: value\n" + std::string(kPlugins)),
            "/etc/concierge/test.yaml (line 1): keys must be plain names, not lists or mappings");
}

// The shipped default, mutated at random: every outcome is a valid config or a HostConfigError (never another
// exception type escaping from yaml-cpp, never a crash).
TEST(HostConfigRobustness, MutatedDefaultConfigFailsOnlyWithHostConfigError) {
  const std::string original(concierge::host::embedded_default_config());
  const std::string alphabet = "${}:-[]\"'#&*!|>?, \n\tax0";
  std::uint32_t seed = 777;
  auto next = [&] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  int accepted = 0, refused = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text = original;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = next() % text.size();
      switch (next() % 3) {
        case 0: text[at] = alphabet[next() % alphabet.size()]; break;
        case 1: text.insert(at, 1, alphabet[next() % alphabet.size()]); break;
        default: text.erase(at, 1); break;
      }
    }
    try {
      parse_host_config(text, "mutated.yaml", Environment());
      ++accepted;
    } catch (const HostConfigError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("mutated.yaml", 0), 0u) << e.what();
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "unexpected " << typeid(e).name() << ": " << e.what() << "\n--- text ---\n" << text;
      return;
    }
  }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(refused, 100);
}

TEST(HostConfig, CollectsThePluginsSecretsForMasking) {
  Environment env;
  env.set("TWILIO_AUTH_TOKEN", "tok-abcdef123456");
  env.set("OPENAI_API_KEY", "sk-test-987654");
  const HostConfig c = parse(
      "plugins:\n"
      "  telephony: {plugin: twilio, config: {account_sid: AC1, auth_token: \"${TWILIO_AUTH_TOKEN}\"}}\n"
      "  voice_model: {plugin: openai-realtime, config: {api_key: \"${OPENAI_API_KEY}\", voice: alloy,\n"
      "                                                 extra: {client_secret: [s3cr3t-value]}}}\n"
      "  agent: {plugin: reservation-agent, config: {password: \"\"}}\n",
      env);
  EXPECT_EQ(c.secrets, (std::vector<std::string>{"tok-abcdef123456", "sk-test-987654", "s3cr3t-value"}));
}

TEST(HostConfig, ConnectionLimitsAndTrustedProxies) {
  const HostConfig defaults = parse(kPlugins);
  EXPECT_EQ(defaults.max_connections, 10000u);
  EXPECT_EQ(defaults.max_connections_per_client, 2000u);
  EXPECT_EQ(defaults.idle_timeout, std::chrono::seconds(30));
  EXPECT_TRUE(defaults.trusted_proxies.empty());
  const HostConfig c = parse(std::string("server:\n  max_connections: 50\n  max_connections_per_client: 5\n"
                                         "  idle_timeout_seconds: 7\n  trusted_proxies: [10.0.0.1, \"::1\"]\n") +
                             kPlugins);
  EXPECT_EQ(c.max_connections, 50u);
  EXPECT_EQ(c.max_connections_per_client, 5u);
  EXPECT_EQ(c.idle_timeout, std::chrono::seconds(7));
  EXPECT_EQ(c.trusted_proxies, (std::vector<std::string>{"10.0.0.1", "::1"}));
  EXPECT_NE(error_of(std::string("server:\n  trusted_proxies: [proxy.example]\n") + kPlugins)
                .find("server.trusted_proxies (line 2): \"proxy.example\" is not an IP address"),
            std::string::npos)
      << error_of(std::string("server:\n  trusted_proxies: [proxy.example]\n") + kPlugins);
  EXPECT_NE(error_of(std::string("server:\n  max_connections: 0\n") + kPlugins).find("server.max_connections"),
            std::string::npos);
}

namespace {
TEST(HostConfigApiToken, FromTheEnvironmentOrGeneratedAndNeverEchoed) {
  EXPECT_EQ(parse(std::string(kPlugins)).api_token, "");  // none: the daemon generates one
  EXPECT_FALSE(parse(std::string(kPlugins)).metrics_public);
  Environment env;
  env.set("CONCIERGE_API_TOKEN", "0123456789abcdef0123");
  env.set("CONCIERGE_API_TOKEN_FILE", "tokens/api");
  const HostConfig config = parse(std::string(kPlugins), env);
  EXPECT_EQ(config.api_token, "0123456789abcdef0123");
  EXPECT_EQ(config.api_token_file, std::filesystem::path("/etc/concierge/tokens/api"));
  env.set("CONCIERGE_API_TOKEN", "short secret");
  const std::string error = error_of(std::string(kPlugins), env);
  EXPECT_NE(error.find("server.api_token"), std::string::npos) << error;
  EXPECT_EQ(error.find("short secret"), std::string::npos) << error;
  EXPECT_TRUE(parse("server:\n  metrics_public: true\n" + std::string(kPlugins)).metrics_public);
}
}  // namespace
