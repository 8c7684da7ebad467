#include "api_auth.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace concierge::host {
namespace {

std::string errno_text() { return std::strerror(errno); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

HttpResponse unauthorized(std::string_view challenge, std::string_view message) {
  auto response = HttpResponse::json_error(401, message);
  response.headers.emplace_back("WWW-Authenticate", std::string(challenge));
  return response;
}

}  // namespace

bool tokens_equal(std::string_view given, std::string_view expected) {
  // Every byte of `expected` is visited whatever `given` holds; a length mismatch only sets a bit.
  volatile unsigned char difference = given.size() != expected.size() ? 1 : 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    difference = difference | (g ^ static_cast<unsigned char>(expected[i]));
  }
  return difference == 0;
}

std::string generate_api_token() {
  unsigned char bytes[32];
  std::size_t filled = 0;
  while (filled < sizeof bytes) {
    const ssize_t n = getrandom(bytes + filled, sizeof bytes - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("cannot generate an API token: getrandom failed: " + errno_text());
    }
    filled += static_cast<std::size_t>(n);
  }
  static const char hex[] = "0123456789abcdef";
  std::string token;
  token.reserve(2 * sizeof bytes);
  for (unsigned char b : bytes) {
    token.push_back(hex[b >> 4]);
    token.push_back(hex[b & 15]);
  }
  return token;
}

std::string api_token_problem(std::string_view token) {
  if (token.size() < 16)
    return "is " + std::to_string(token.size()) +
           " characters; a credential needs at least 16 (try: openssl rand -hex 32)";
  if (token.size() > 1024) return "is longer than 1024 characters";
  for (char c : token)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return "may hold only visible ASCII characters (no spaces or control characters)";
  return "";
}

std::optional<std::filesystem::path> default_api_token_file(const Environment& env, unsigned port) {
  const std::string name = "api-token-" + std::to_string(port);
  if (auto runtime = env.get("XDG_RUNTIME_DIR"); runtime && !runtime->empty())
    return std::filesystem::path(*runtime) / "concierge" / name;
  if (auto home = env.get("HOME"); home && !home->empty())
    return std::filesystem::path(*home) / ".local" / "state" / "concierge" / name;
  return std::nullopt;
}

void write_api_token_file(const std::filesystem::path& file, const std::string& token) {
  const std::filesystem::path folder = file.parent_path();
  if (!folder.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(folder, ec)) {
      // Intermediate folders (~/.local/state) get the usual permissions, ours 0700.
      std::filesystem::create_directories(folder.parent_path(), ec);
      if (mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST)
        throw std::runtime_error("cannot create " + folder.string() + " for the API token: " + errno_text());
    }
  }
  const std::string temporary = file.string() + ".tmp" + std::to_string(getpid());
  unlink(temporary.c_str());
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write the API token to " + temporary + ": " + errno_text());
  // The mode passed to open() is masked by the umask; 0600 is what we promise whatever the umask says.
  const std::string text = token + "\n";
  const bool written = fchmod(fd, 0600) == 0 && write(fd, text.data(), text.size()) == ssize_t(text.size()) &&
                       fsync(fd) == 0;
  const std::string write_error = written ? "" : errno_text();
  close(fd);
  if (!written) {
    unlink(temporary.c_str());
    throw std::runtime_error("cannot write the API token to " + temporary + ": " + write_error);
  }
  if (rename(temporary.c_str(), file.c_str()) != 0) {
    const std::string error = errno_text();
    unlink(temporary.c_str());
    throw std::runtime_error("cannot write the API token to " + file.string() + ": " + error);
  }
}

void remove_api_token_file(const std::filesystem::path& file, const std::string& token) {
  std::ifstream in(file);
  std::string line;
  std::error_code ignored;  // already gone is fine; the daemon is stopping either way
  if (in && std::getline(in, line) && line == token) std::filesystem::remove(file, ignored);
}

std::optional<HttpResponse> ApiAuth::check(const HttpRequest& request) const {
  static constexpr std::string_view kRealm = "Bearer realm=\"concierge\"";
  const std::string_view header = request.header("authorization");
  if (header.empty())
    return unauthorized(kRealm,
                        "this needs the API token: send \"Authorization: Bearer <token>\" (CONCIERGE_API_TOKEN, or "
                        "the file whose path the daemon logs at start)");
  const auto space = header.find(' ');
  if (space == std::string_view::npos || !iequals(header.substr(0, space), "bearer"))
    return unauthorized(std::string(kRealm) + ", error=\"invalid_request\"",
                        "the Authorization header must read \"Bearer <token>\"");
  std::string_view given = header.substr(space + 1);
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  while (!given.empty() && given.back() == ' ') given.remove_suffix(1);
  if (!tokens_equal(given, token_))
    return unauthorized(std::string(kRealm) + ", error=\"invalid_token\"", "the API token is not valid");
  return std::nullopt;
}

}  // namespace concierge::host
