#pragma once
// The variables a config file may refer to: the process environment plus an optional `.env` file.
//
// Where the .env comes from (the daemon decides, Environment only reads what it is given):
//   - `concierge-host --env-file PATH`: that file, which must exist;
//   - otherwise `.env` in the current working directory, when there is one (the seed's users keep it in the
//     folder they start the server from).
// The process environment wins over the .env file, as python-dotenv's load_dotenv() does by default, so
// `LOG_LEVEL=DEBUG concierge-host` overrides a .env line. The .env values are NOT exported to the process
// environment: only ${VAR} interpolation in the config sees them, so nothing else changes behaviour behind the
// config's back.
//
// .env syntax (python-dotenv's, with one deliberate difference):
//   KEY=value            whitespace around key and value is trimmed
//   export KEY=value     the `export ` prefix is ignored
//   KEY='literal'        single quotes: no expansion; \' and \\ are the only escapes
//   KEY="text\n"         double quotes: \n \t \r \" \\ \' \a \b \f \v escapes; may span lines
//   KEY=                 an empty value (set, but empty)
//   KEY                  no '=': declares nothing (python-dotenv gives it no value), ignored
//   # comment            whole-line comment; in unquoted values " #" starts a comment
//   ${OTHER} / ${OTHER:-default} in unquoted and double-quoted values expand from the process environment, then
//   from lines above (python-dotenv's interpolation).
// The difference: python-dotenv reads `PUBLIC_DOMAIN=  # Will be set after ngrok setup` (the seed's own example)
// as the value "# Will be set after ngrok setup"; here a '#' that follows whitespace after '=' starts a comment,
// so the value is empty, which is what that line means. `KEY=#x` (no whitespace) keeps "#x".
// Lines that are none of the above (a key with spaces, an unterminated quote, text after a closing quote) are a
// ConfigError naming the file and line; a .env mistake is never skipped silently.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace concierge::host {

class Environment {
 public:
  // No variables at all (tests build exact environments with set()).
  Environment() = default;

  // A snapshot of the process environment (later setenv() calls are not seen).
  static Environment from_process();

  // The daemon's start-up: the process environment, then `env_file` if given (must exist) or ./.env if present.
  static Environment for_daemon(const std::optional<std::filesystem::path>& env_file);

  // Adds the .env file's variables that the process environment (or an earlier set()) does not define.
  // Throws ConfigError ("<file> (line N): ...") for unreadable files and syntax errors.
  void load_dotenv_file(const std::filesystem::path& file);
  // The same from text; `source_name` names it in errors.
  void load_dotenv_text(std::string_view text, const std::string& source_name);

  // Sets a variable as the process environment would (wins over .env values).
  void set(const std::string& name, std::string value);

  std::optional<std::string> get(std::string_view name) const;

  // Expands, in `text`:
  //   ${VAR}           the value, or "" when VAR is unset
  //   ${VAR:-default}  the value, or `default` when VAR is unset or empty (default may itself contain ${...})
  //   ${VAR-default}   the value, or `default` only when VAR is unset
  //   $$               a literal '$'
  // Any other '$' is kept as it is ("pa$word"). A malformed ${...} (no closing brace, empty or invalid name,
  // an operator other than :- or -) throws ConfigError(key_path, line, ...).
  std::string interpolate(std::string_view text, const std::string& key_path, int line) const;

  // The .env files read so far, for the start-up log.
  const std::vector<std::filesystem::path>& loaded_files() const { return loaded_files_; }

 private:
  struct Value {
    std::string text;
    bool from_process;
  };
  std::map<std::string, Value, std::less<>> values_;
  std::vector<std::filesystem::path> loaded_files_;
};

// True for names a ${...} may use: [A-Za-z_][A-Za-z0-9_]*.
bool is_valid_variable_name(std::string_view name);

}  // namespace concierge::host
