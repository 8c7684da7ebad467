#include "fake_openai_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace concierge::bench {
namespace {

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "status " + std::to_string(status);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The log's last few lines, indented, for an error message: the fake's own words on why it failed are usually there.
std::string log_tail(const std::string& path, std::size_t lines = 5) {
  std::istringstream text(read_file(path));
  std::deque<std::string> last;
  for (std::string line; std::getline(text, line);) {
    if (line.empty()) continue;
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& line : last) out += "\n  | " + line;
  return out.empty() ? std::string("\n  (the log is empty)") : out;
}

void kill_and_reap(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

}  // namespace

std::optional<unsigned short> port_of_fake_openai_url(const std::string& line) {
  const std::string prefix = "ws://127.0.0.1:";
  if (line.rfind(prefix, 0) != 0) return std::nullopt;
  std::size_t digits = prefix.size();
  unsigned long port = 0;
  while (digits < line.size() && line[digits] >= '0' && line[digits] <= '9' && port <= 65535)
    port = port * 10 + static_cast<unsigned long>(line[digits++] - '0');
  if (digits == prefix.size() || port == 0 || port > 65535) return std::nullopt;
  if (digits < line.size() && line[digits] != '/') return std::nullopt;
  return static_cast<unsigned short>(port);
}

FakeOpenAIProcess FakeOpenAIProcess::start(const std::string& path, const std::string& api_key,
                                           const std::string& log_path, std::chrono::milliseconds timeout) {
  // Opened here, not in the child, so that an unwritable log is this call's error rather than a silent child.
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log < 0) throw std::runtime_error("cannot write fake-openai-server's log " + log_path + ": " + std::strerror(errno));
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child < 0) {
    const int error = errno;
    ::close(log);
    throw std::runtime_error(std::string("fork for fake-openai-server: ") + std::strerror(error));
  }
  if (child == 0) {
    dup2(log, 1);  // dup2 clears O_CLOEXEC on the copies: the fake writes to the log
    dup2(log, 2);
    // The kernel stops the fake if the bench dies without reaching its clean-up (a crash, SIGKILL): no orphan
    // server left holding its port. The parent may already be gone by the time this is set; then stop now.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    execl(path.c_str(), path.c_str(), "--echo", "--port", "0", "--api-key", api_key.c_str(),
          static_cast<char*>(nullptr));
    const std::string message = "concierge-bench: cannot run " + path + ": " + std::strerror(errno) + "\n";
    [[maybe_unused]] const auto written = ::write(2, message.data(), message.size());
    _exit(127);
  }
  ::close(log);

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Exit first: a URL followed by an exit is no server to run against.
    int status = 0;
    if (waitpid(child, &status, WNOHANG) == child) {
      throw std::runtime_error("fake-openai-server (" + path + ") exited during start-up, " + describe_exit(status) +
                               ", before printing its URL; its log " + log_path + " ends:" + log_tail(log_path));
    }
    const std::string output = read_file(log_path);
    if (const auto newline = output.find('\n'); newline != std::string::npos) {
      const std::string first_line = output.substr(0, newline);
      if (const auto port = port_of_fake_openai_url(first_line))
        return FakeOpenAIProcess(child, first_line, *port, log_path);
      // A fake that cannot start usually prints why and exits: its exit status says more than "not a URL", and the
      // line can be read before the exit is seen. So it gets a moment to exit before it is called a wrong URL.
      const auto exit_grace = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (std::chrono::steady_clock::now() < exit_grace) {
        if (waitpid(child, &status, WNOHANG) == child)
          throw std::runtime_error("fake-openai-server (" + path + ") exited during start-up, " +
                                   describe_exit(status) + ", before printing its URL; its log " + log_path +
                                   " ends:" + log_tail(log_path));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      kill_and_reap(child);
      throw std::runtime_error("fake-openai-server (" + path + ") printed \"" + first_line +
                               "\" where its ws://127.0.0.1:PORT/v1/realtime URL belongs; its log " + log_path +
                               " ends:" + log_tail(log_path));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      kill_and_reap(child);
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.1f", timeout.count() / 1000.0);
      throw std::runtime_error("fake-openai-server (" + path + ") did not print its URL within " + seconds +
                               " s; its log " + log_path + " ends:" + log_tail(log_path));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

FakeOpenAIProcess::FakeOpenAIProcess(FakeOpenAIProcess&& other) noexcept
    : pid_(other.pid_), url_(std::move(other.url_)), port_(other.port_), log_path_(std::move(other.log_path_)) {
  other.pid_ = -1;
}

FakeOpenAIProcess& FakeOpenAIProcess::operator=(FakeOpenAIProcess&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = other.pid_;
    url_ = std::move(other.url_);
    port_ = other.port_;
    log_path_ = std::move(other.log_path_);
    other.pid_ = -1;
  }
  return *this;
}

FakeOpenAIProcess::~FakeOpenAIProcess() { stop(); }

std::optional<std::string> FakeOpenAIProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ < 0) return std::nullopt;
  const pid_t child = pid_;
  pid_ = -1;
  int status = 0;
  if (waitpid(child, &status, WNOHANG) == child) return describe_exit(status);
  kill(child, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(child, nullptr, WNOHANG) == child) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill_and_reap(child);
  return std::nullopt;
}

std::string FakeOpenAIProcess::last_log_line() const {
  std::istringstream text(read_file(log_path_));
  std::string last;
  for (std::string line; std::getline(text, line);)
    if (!line.empty()) last = line;
  return last;
}

}  // namespace concierge::bench
