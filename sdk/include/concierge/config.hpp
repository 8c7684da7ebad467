#pragma once
// Reading a YAML block with errors a person can act on: every error names the key path and the line. The host
// interpolates ${VAR} and ${VAR:-default} in every scalar before a plugin sees its block, and prefixes the file name
// to the errors plugins throw.
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace concierge {

class ConfigError : public std::runtime_error {
 public:
  // line is 1-based; 0 when unknown. what() reads "<key_path> (line N): <message>".
  ConfigError(std::string key_path, int line, std::string message);
  const std::string& key_path() const { return key_path_; }
  int line() const { return line_; }
  const std::string& message() const { return message_; }

 private:
  std::string key_path_;
  int line_;
  std::string message_;
};

// One YAML mapping and where it sits ("plugins.telephony.config"). Cheap to copy.
class ConfigNode {
 public:
  ConfigNode(YAML::Node node, std::string path);

  const YAML::Node& yaml() const { return node_; }
  const std::string& path() const { return path_; }
  int line() const;  // 1-based line of this node, 0 when unknown
  bool has(std::string_view key) const;

  // Throws ConfigError for any key not in `allowed` (unknown keys are typos more often than not).
  void allow_only(std::initializer_list<std::string_view> allowed) const;

  ConfigNode child(std::string_view key) const;           // required mapping
  std::optional<ConfigNode> optional_child(std::string_view key) const;

  // Typed scalars. Throw ConfigError naming the key path, the line and the expected type. A required value that is
  // missing or empty (an unset ${VAR}) is an error; get_* return the default when the key is absent.
  std::string required_string(std::string_view key) const;
  std::string get_string(std::string_view key, std::string default_value) const;
  long long required_int(std::string_view key) const;
  long long get_int(std::string_view key, long long default_value, long long min, long long max) const;
  double get_double(std::string_view key, double default_value, double min, double max) const;
  bool get_bool(std::string_view key, bool default_value) const;
  std::vector<std::string> get_string_list(std::string_view key) const;  // absent: empty

  std::string key_path(std::string_view key) const;  // "<path>.<key>"
  [[noreturn]] void fail(std::string_view key, std::string message) const;

 private:
  YAML::Node node_;
  std::string path_;
};

}  // namespace concierge
