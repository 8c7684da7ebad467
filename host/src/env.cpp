#include "env.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "concierge/config.hpp"

extern char** environ;

namespace concierge::host {
namespace {

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

// python-dotenv also accepts dots in keys ("spring.profile=..."); they cannot be referenced as ${...} but are kept.
bool is_dotenv_key(std::string_view key) {
  if (key.empty() || !is_name_start(key[0])) return false;
  for (char c : key)
    if (!is_name_char(c) && c != '.') return false;
  return true;
}

// A .env line's parse state: one cursor over the whole text, so quoted values may span lines.
class DotenvParser {
 public:
  DotenvParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  struct Entry {
    std::string key;
    std::string value;
    bool expand;  // false for single-quoted values
    int line;
  };

  std::vector<Entry> parse() {
    std::vector<Entry> entries;
    while (pos_ < text_.size()) {
      skip_blanks();
      if (at_line_end()) { next_line(); continue; }
      if (peek() == '#') { skip_to_line_end(); continue; }
      const int entry_line = line_;
      if (text_.substr(pos_, 7) == "export " || text_.substr(pos_, 7) == "export\t") {
        pos_ += 7;
        skip_blanks();
      }
      const size_t key_start = pos_;
      while (pos_ < text_.size() && peek() != '=' && !is_blank(peek()) && peek() != '\n' && peek() != '\r') ++pos_;
      const std::string key(text_.substr(key_start, pos_ - key_start));
      if (!is_dotenv_key(key))
        fail(entry_line, "\"" + key + "\" is not a valid variable name (letters, digits and _ only)");
      skip_blanks();
      if (at_line_end() || peek() == '#') {
        // "KEY" alone: python-dotenv gives it no value and sets nothing; so do we.
        skip_to_line_end();
        continue;
      }
      if (peek() != '=') fail(entry_line, "expected '=' after " + key);
      ++pos_;
      const bool blank_after_equals = pos_ < text_.size() && is_blank(peek());
      skip_blanks();
      Entry entry{key, "", true, entry_line};
      if (at_line_end()) {
        // KEY= : set and empty.
      } else if (peek() == '\'') {
        entry.value = quoted('\'', entry_line);
        entry.expand = false;
        after_quoted(entry_line);
      } else if (peek() == '"') {
        entry.value = quoted('"', entry_line);
        after_quoted(entry_line);
      } else if (peek() == '#' && blank_after_equals) {
        skip_to_line_end();  // "KEY=   # comment": empty (see env.hpp on python-dotenv's reading of this)
      } else {
        entry.value = unquoted();
      }
      entries.push_back(std::move(entry));
    }
    return entries;
  }

 private:
  char peek() const { return text_[pos_]; }
  bool at_line_end() const { return pos_ >= text_.size() || peek() == '\n' || peek() == '\r'; }
  void skip_blanks() { while (pos_ < text_.size() && is_blank(peek())) ++pos_; }
  void next_line() {
    if (pos_ >= text_.size()) return;
    if (peek() == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }
  void skip_to_line_end() {
    while (!at_line_end()) ++pos_;
    next_line();
  }

  [[noreturn]] void fail(int line, std::string message) const { throw ConfigError(source_, line, std::move(message)); }

  std::string unquoted() {
    const size_t start = pos_;
    while (!at_line_end()) ++pos_;
    std::string value(text_.substr(start, pos_ - start));
    next_line();
    // " #..." starts a comment; a '#' glued to text ("pa#ss") is part of the value.
    for (size_t i = 1; i < value.size(); ++i) {
      if (value[i] == '#' && is_blank(value[i - 1])) {
        value.resize(i);
        break;
      }
    }
    while (!value.empty() && is_blank(value.back())) value.pop_back();
    return value;
  }

  std::string quoted(char quote, int start_line) {
    ++pos_;  // the opening quote
    std::string value;
    while (true) {
      if (pos_ >= text_.size())
        fail(start_line, std::string("unterminated ") + (quote == '"' ? "double" : "single") + "-quoted value");
      const char c = peek();
      if (c == quote) {
        ++pos_;
        return value;
      }
      if (c == '\n') ++line_;
      if (c == '\\' && pos_ + 1 < text_.size()) {
        const char e = text_[pos_ + 1];
        if (quote == '\'') {
          if (e == '\'' || e == '\\') { value += e; pos_ += 2; continue; }
        } else {
          const char* decoded = nullptr;
          switch (e) {
            case 'n': decoded = "\n"; break;
            case 't': decoded = "\t"; break;
            case 'r': decoded = "\r"; break;
            case 'a': decoded = "\a"; break;
            case 'b': decoded = "\b"; break;
            case 'f': decoded = "\f"; break;
            case 'v': decoded = "\v"; break;
            case '"': decoded = "\""; break;
            case '\'': decoded = "'"; break;
            case '\\': decoded = "\\"; break;
            default: break;
          }
          if (decoded) { value += decoded; pos_ += 2; continue; }
        }
      }
      value += c;
      ++pos_;
    }
  }

  void after_quoted(int entry_line) {
    skip_blanks();
    if (at_line_end()) { next_line(); return; }
    if (peek() == '#') { skip_to_line_end(); return; }
    fail(entry_line, "unexpected text after the closing quote");
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace

bool is_valid_variable_name(std::string_view name) {
  if (name.empty() || !is_name_start(name[0])) return false;
  for (char c : name)
    if (!is_name_char(c)) return false;
  return true;
}

Environment Environment::from_process() {
  Environment env;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    const size_t eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.values_[std::string(text.substr(0, eq))] = Value{std::string(text.substr(eq + 1)), true};
  }
  return env;
}

Environment Environment::for_daemon(const std::optional<std::filesystem::path>& env_file) {
  Environment env = from_process();
  if (env_file) {
    env.load_dotenv_file(*env_file);
  } else {
    std::error_code ec;
    const std::filesystem::path local = std::filesystem::current_path(ec) / ".env";
    if (!ec && std::filesystem::is_regular_file(local, ec)) env.load_dotenv_file(local);
  }
  return env;
}

void Environment::load_dotenv_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file.string(), 0, std::string("cannot read the .env file: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  load_dotenv_text(text.str(), file.string());
  loaded_files_.push_back(file);
}

void Environment::load_dotenv_text(std::string_view text, const std::string& source_name) {
  DotenvParser parser(text, source_name);
  std::map<std::string, bool, std::less<>> defined_here;  // a later line of the same file replaces an earlier one
  for (auto& entry : parser.parse()) {
    std::string value = std::move(entry.value);
    if (entry.expand) {
      // python-dotenv's expansion: only the ${NAME} and ${NAME:-default} forms; anything else stays literal.
      std::string expanded;
      size_t i = 0;
      while (i < value.size()) {
        const size_t open = value.find("${", i);
        if (open == std::string::npos) break;
        const size_t close = value.find('}', open + 2);
        if (close == std::string::npos) break;
        std::string_view inner(value.data() + open + 2, close - open - 2);
        std::string_view name = inner, fallback;
        bool has_fallback = false;
        if (const size_t op = inner.find(":-"); op != std::string_view::npos) {
          name = inner.substr(0, op);
          fallback = inner.substr(op + 2);
          has_fallback = true;
        }
        expanded.append(value, i, open - i);
        if (is_valid_variable_name(name)) {
          const auto found = get(name);
          if (found && !found->empty()) expanded += *found;
          else if (has_fallback) expanded += fallback;
        } else {
          expanded.append(value, open, close + 1 - open);
        }
        i = close + 1;
      }
      expanded.append(value, i, std::string::npos);
      value = std::move(expanded);
    }
    const auto existing = values_.find(entry.key);
    if (existing == values_.end()) {
      values_[entry.key] = Value{std::move(value), false};
      defined_here[entry.key] = true;
    } else if (defined_here.count(entry.key)) {
      existing->second.text = std::move(value);
    }
    // Otherwise the process environment (or an earlier .env) already set it and wins.
  }
}

void Environment::set(const std::string& name, std::string value) { values_[name] = Value{std::move(value), true}; }

std::optional<std::string> Environment::get(std::string_view name) const {
  const auto found = values_.find(name);
  if (found == values_.end()) return std::nullopt;
  return found->second.text;
}

namespace {

// Expands text[pos...] into out. With `nested`, stops at the first '}' that closes the enclosing ${...} and returns
// its position; at top level a '}' is an ordinary character.
size_t expand(const Environment& env, std::string_view text, size_t pos, bool nested, std::string& out,
              const std::string& key_path, int line) {
  auto malformed = [&](const std::string& why) {
    throw ConfigError(key_path, line, "malformed ${...} in \"" + std::string(text) + "\": " + why);
  };
  while (pos < text.size()) {
    const char c = text[pos];
    if (nested && c == '}') return pos;
    if (c != '$') {
      out += c;
      ++pos;
      continue;
    }
    if (pos + 1 < text.size() && text[pos + 1] == '$') {
      out += '$';
      pos += 2;
      continue;
    }
    if (pos + 1 >= text.size() || text[pos + 1] != '{') {
      out += '$';  // "pa$word": a lone '$' is literal
      ++pos;
      continue;
    }
    pos += 2;
    const size_t name_start = pos;
    while (pos < text.size() && text[pos] != '}' && text[pos] != ':' && text[pos] != '-') ++pos;
    const std::string_view name = text.substr(name_start, pos - name_start);
    if (pos >= text.size()) malformed("missing the closing '}'");
    if (name.empty()) malformed("no variable name");
    if (!is_valid_variable_name(name))
      malformed("\"" + std::string(name) + "\" is not a variable name (letters, digits and _, not first a digit)");
    const std::optional<std::string> value = env.get(name);
    if (text[pos] == '}') {
      if (value) out += *value;
      ++pos;
      continue;
    }
    bool empty_counts_as_unset = false;
    if (text[pos] == ':') {
      if (pos + 1 >= text.size() || text[pos + 1] != '-')
        malformed("after ${" + std::string(name) + ": only \":-default\" is supported");
      empty_counts_as_unset = true;
      pos += 2;
    } else {  // '-'
      pos += 1;
    }
    std::string fallback;
    pos = expand(env, text, pos, true, fallback, key_path, line);
    if (pos >= text.size()) malformed("missing the closing '}'");
    ++pos;
    const bool use_fallback = !value || (empty_counts_as_unset && value->empty());
    out += use_fallback ? fallback : *value;
  }
  return pos;
}

}  // namespace

std::string Environment::interpolate(std::string_view text, const std::string& key_path, int line) const {
  std::string out;
  out.reserve(text.size());
  expand(*this, text, 0, false, out, key_path, line);
  return out;
}

}  // namespace concierge::host
