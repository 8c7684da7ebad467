#pragma once
// Runs the real concierge-host (or any program) as a child process for tests: started with arguments and extra
// environment, its stdout+stderr captured, stopped with SIGTERM (SIGKILL if it hangs). Children get
// CONCIERGE_API_TOKEN=kTestApiToken (http_client.hpp) unless the extra environment sets it.
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace concierge::testing {

class ChildProcess {
 public:
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& extra_env = {}, const std::string& stdin_text = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  std::string output() const;  // everything printed so far
  // Waits until the output contains `needle`; returns false on timeout or exit.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) const;
  // Waits for the process to exit; returns its exit status (128+signal when killed), nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void signal(int sig);
  bool running();

 private:
  void reader();
  int pid_ = -1;
  int out_fd_ = -1;
  std::optional<int> status_;
  mutable std::mutex mutex_;
  std::string output_;
  std::thread reader_thread_;
};

// The daemon on a free loopback port.
class Daemon {
 public:
  // config: a YAML path, or "" for the built-in default. extra_args are appended (e.g. --log-level DEBUG).
  // program: the daemon binary (another one than the build tree's, e.g. an installed copy).
  explicit Daemon(const std::string& config, const std::map<std::string, std::string>& env = {},
                  const std::vector<std::string>& extra_args = {},
                  const std::string& program = CONCIERGE_HOST_BINARY);
  bool started() const { return port_ != 0; }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The public listener (server.public_port, two faces); 0 when the daemon has only one.
  int public_port() const { return public_port_; }
  std::string public_url() const { return "http://127.0.0.1:" + std::to_string(public_port_); }
  ChildProcess& process() { return *process_; }
  std::string output() const { return process_->output(); }

 private:
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
  int public_port_ = 0;
};

// Runs a program to completion (with a time limit) and returns its exit status and output.
struct RunResult {
  int status = -1;
  std::string output;
};
RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                      std::chrono::seconds timeout, const std::map<std::string, std::string>& env = {},
                      const std::string& stdin_text = "");

}  // namespace concierge::testing
