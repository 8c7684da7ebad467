#include "concierge/config.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace concierge {
namespace {
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "\"" + node.Scalar() + "\"";
    default: return "nothing";
  }
}
}  // namespace

ConfigError::ConfigError(std::string key_path, int line, std::string message)
    : std::runtime_error(key_path + (line > 0 ? " (line " + std::to_string(line) + ")" : std::string()) + ": " +
                         message),
      key_path_(std::move(key_path)),
      line_(line),
      message_(std::move(message)) {}

ConfigNode::ConfigNode(YAML::Node node, std::string path) : node_(std::move(node)), path_(std::move(path)) {
  if (node_ && !node_.IsMap() && !node_.IsNull())
    throw ConfigError(path_, line(), "expected a mapping, found " + describe(node_));
}

int ConfigNode::line() const { return node_ && node_.Mark().line >= 0 ? node_.Mark().line + 1 : 0; }

bool ConfigNode::has(std::string_view key) const {
  return node_ && node_.IsMap() && node_[std::string(key)].IsDefined();
}

std::string ConfigNode::key_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void ConfigNode::fail(std::string_view key, std::string message) const {
  int at = line();
  if (has(key)) {
    const YAML::Node value = node_[std::string(key)];
    if (value.Mark().line >= 0) at = value.Mark().line + 1;
  }
  throw ConfigError(key_path(key), at, std::move(message));
}

void ConfigNode::allow_only(std::initializer_list<std::string_view> allowed) const {
  if (!node_ || !node_.IsMap()) return;
  for (const auto& entry : node_) {
    const std::string key = entry.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string known;
      for (auto k : allowed) known += (known.empty() ? "" : ", ") + std::string(k);
      int at = entry.first.Mark().line >= 0 ? entry.first.Mark().line + 1 : line();
      throw ConfigError(key_path(key), at, "unknown key (known keys here: " + known + ")");
    }
  }
}

ConfigNode ConfigNode::child(std::string_view key) const {
  if (!has(key)) throw ConfigError(key_path(key), line(), "required section is missing");
  return ConfigNode(node_[std::string(key)], key_path(key));
}

std::optional<ConfigNode> ConfigNode::optional_child(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return ConfigNode(node_[std::string(key)], key_path(key));
}

std::string ConfigNode::required_string(std::string_view key) const {
  if (!has(key)) fail(key, "required value is missing");
  const YAML::Node value = node_[std::string(key)];
  if (!value.IsScalar()) fail(key, "expected a text value, found " + describe(value));
  if (value.Scalar().empty()) fail(key, "required value is empty (is its environment variable set?)");
  return value.Scalar();
}

std::string ConfigNode::get_string(std::string_view key, std::string default_value) const {
  if (!has(key)) return default_value;
  const YAML::Node value = node_[std::string(key)];
  if (value.IsNull()) return default_value;
  if (!value.IsScalar()) fail(key, "expected a text value, found " + describe(value));
  return value.Scalar();
}

long long ConfigNode::required_int(std::string_view key) const {
  if (!has(key)) fail(key, "required value is missing");
  return get_int(key, 0, std::numeric_limits<long long>::min(), std::numeric_limits<long long>::max());
}

long long ConfigNode::get_int(std::string_view key, long long default_value, long long min, long long max) const {
  if (!has(key)) return default_value;
  const YAML::Node value = node_[std::string(key)];
  long long parsed = 0;
  try {
    if (!value.IsScalar()) throw YAML::BadConversion(value.Mark());
    parsed = value.as<long long>();
  } catch (const YAML::BadConversion&) {
    fail(key, "expected a whole number, found " + describe(value));
  }
  if (parsed < min || parsed > max)
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", found " +
                  std::to_string(parsed));
  return parsed;
}

double ConfigNode::get_double(std::string_view key, double default_value, double min, double max) const {
  if (!has(key)) return default_value;
  const YAML::Node value = node_[std::string(key)];
  double parsed = 0;
  try {
    if (!value.IsScalar()) throw YAML::BadConversion(value.Mark());
    parsed = value.as<double>();
  } catch (const YAML::BadConversion&) {
    fail(key, "expected a number, found " + describe(value));
  }
  if (!(parsed >= min && parsed <= max)) {
    // Shortest form (0.9, 60000, 1.5), not std::to_string's six decimals.
    auto shown = [](double v) {
      char text[32];
      std::snprintf(text, sizeof text, "%.10g", v);
      return std::string(text);
    };
    fail(key, "must be between " + shown(min) + " and " + shown(max) + ", found " + shown(parsed));
  }
  return parsed;
}

bool ConfigNode::get_bool(std::string_view key, bool default_value) const {
  if (!has(key)) return default_value;
  const YAML::Node value = node_[std::string(key)];
  try {
    if (!value.IsScalar()) throw YAML::BadConversion(value.Mark());
    return value.as<bool>();
  } catch (const YAML::BadConversion&) {
    fail(key, "expected true or false, found " + describe(value));
  }
}

std::vector<std::string> ConfigNode::get_string_list(std::string_view key) const {
  std::vector<std::string> out;
  if (!has(key)) return out;
  const YAML::Node value = node_[std::string(key)];
  if (value.IsNull()) return out;
  if (!value.IsSequence()) fail(key, "expected a list, found " + describe(value));
  for (const auto& item : value) {
    if (!item.IsScalar()) fail(key, "expected a list of text values");
    out.push_back(item.Scalar());
  }
  return out;
}

}  // namespace concierge
