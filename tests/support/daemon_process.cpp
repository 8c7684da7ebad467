#include "daemon_process.hpp"

#include "http_client.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <regex>
#include <stdexcept>

extern char** environ;

namespace concierge::testing {

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& given_env, const std::string& stdin_text) {
  // Every test's daemon and CLI share the API token http_request sends, so a developer's own CONCIERGE_API_TOKEN
  // never matters and no test writes a generated token into the developer's runtime folder. A test of the
  // generated token sets CONCIERGE_API_TOKEN to "" (and XDG_RUNTIME_DIR to a folder of its own).
  auto extra_env = given_env;
  if (!extra_env.count("CONCIERGE_API_TOKEN")) extra_env["CONCIERGE_API_TOKEN"] = kTestApiToken;
  int out_pipe[2];
  int in_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(in_pipe) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    const auto name = entry.substr(0, entry.find('='));
    if (!extra_env.count(name)) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : extra_env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings{program};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(out_pipe[1], 2);
    close(out_pipe[0]);
    close(out_pipe[1]);
    close(in_pipe[0]);
    close(in_pipe[1]);
    setpgid(0, 0);
    execve(program.c_str(), argv.data(), envp.data());
    std::fprintf(stderr, "exec %s failed: %s\n", program.c_str(), std::strerror(errno));
    _exit(127);
  }
  close(out_pipe[1]);
  close(in_pipe[0]);
  if (!stdin_text.empty()) {
    ssize_t ignored = write(in_pipe[1], stdin_text.data(), stdin_text.size());
    (void)ignored;
  }
  close(in_pipe[1]);
  out_fd_ = out_pipe[0];
  reader_thread_ = std::thread([this] { reader(); });
}

ChildProcess::~ChildProcess() {
  if (running()) {
    signal(SIGTERM);
    if (!wait(std::chrono::seconds(10))) {
      signal(SIGKILL);
      wait(std::chrono::seconds(5));
    }
  }
  if (reader_thread_.joinable()) reader_thread_.join();
  if (out_fd_ >= 0) close(out_fd_);
}

void ChildProcess::reader() {
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(out_fd_, buffer, sizeof buffer);
    if (n <= 0) break;
    std::lock_guard lock(mutex_);
    output_.append(buffer, static_cast<std::size_t>(n));
  }
}

std::string ChildProcess::output() const {
  std::lock_guard lock(mutex_);
  return output_;
}

bool ChildProcess::wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (output().find(needle) != std::string::npos) return true;
    if (status_) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return output().find(needle) != std::string::npos;
}

bool ChildProcess::running() {
  if (status_) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (reader_thread_.joinable()) reader_thread_.join();
  return status_;
}

void ChildProcess::signal(int sig) {
  if (pid_ > 0 && !status_) kill(pid_, sig);
}

Daemon::Daemon(const std::string& config, const std::map<std::string, std::string>& env,
               const std::vector<std::string>& extra_args, const std::string& program) {
  std::vector<std::string> args{"--host", "127.0.0.1", "--port", "0"};
  if (!config.empty()) {
    args.push_back("--config");
    args.push_back(config);
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto environment = env;
  // A developer's own .env must not leak into tests: point at one that does not exist unless a test gives one.
  if (std::find(extra_args.begin(), extra_args.end(), "--env-file") == extra_args.end()) {
    args.push_back("--env-file");
    args.push_back("/dev/null");
  }
  process_ = std::make_unique<ChildProcess>(program, args, environment);
  if (!process_->wait_for_output("Application startup complete.", std::chrono::seconds(20))) return;
  static const std::regex listening(R"(Listening on http://[0-9.]+:([0-9]+))");
  std::smatch match;
  const std::string out = process_->output();
  if (std::regex_search(out, match, listening)) port_ = std::stoi(match[1]);
  static const std::regex public_listener(R"(Public listener on http://[0-9.]+:([0-9]+))");
  if (std::regex_search(out, match, public_listener)) public_port_ = std::stoi(match[1]);
}

RunResult run_program(const std::string& program, const std::vector<std::string>& args, std::chrono::seconds timeout,
                      const std::map<std::string, std::string>& env, const std::string& stdin_text) {
  ChildProcess child(program, args, env, stdin_text);
  RunResult result;
  auto status = child.wait(timeout);
  if (!status) {
    child.signal(SIGKILL);
    status = child.wait(std::chrono::seconds(5));
    result.status = -1;
  } else {
    result.status = *status;
  }
  result.output = child.output();
  return result;
}

}  // namespace concierge::testing
