// The daemon's config loader (host): YAML text through parse_host_config, which interpolates every ${VAR} before
// validating. The first line of the input is a .env file's text (its variables feed the expansion), the rest is
// the YAML. A bad file must end in HostConfigError (one clear line), never a crash or another exception.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "env.hpp"
#include "host_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge::host;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view dotenv = input.substr(0, newline);
  const std::string_view yaml = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  Environment env;
  env.set("TWILIO_AUTH_TOKEN", "token-for-fuzzing");
  env.set("SERVER_PORT", "8080");
  try {
    // The .env line uses ';' where a file has newlines (so one input line holds several variables).
    std::string text(dotenv);
    for (auto& c : text)
      if (c == ';') c = '\n';
    env.load_dotenv_text(text, ".env");
  } catch (const concierge::ConfigError&) {
  }
  try {
    (void)env.interpolate(yaml, "fuzz", 1);
  } catch (const concierge::ConfigError&) {
  }
  try {
    const HostConfig config = parse_host_config(yaml, "/etc/concierge/fuzz.yaml", env);
    if (config.plugin_dirs.empty()) std::abort();
  } catch (const HostConfigError& e) {
    if (std::string_view(e.what()).empty()) std::abort();
  }
  return 0;
}
