#pragma once
// fake-openai-server (tests/fakes/openai) as a child of concierge-bench, for --fake-openai: started in echo mode on a
// port it picks itself, its URL read back from the first line of its output, stopped when the bench is done.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace concierge::bench {

// The port in the URL the fake prints as its first line ("ws://127.0.0.1:<port>/v1/realtime"); nullopt for any
// other line, so that an error message in its place is reported as such instead of being taken for a port.
std::optional<unsigned short> port_of_fake_openai_url(const std::string& line);

class FakeOpenAIProcess {
 public:
  // Runs `path --echo --port 0 --api-key api_key` with stdout and stderr to log_path and waits up to `timeout` for
  // the URL line. Throws std::runtime_error naming the log (and quoting its last lines) if the fake cannot be started,
  // exits first, prints something else or stays silent; no process is left behind then.
  static FakeOpenAIProcess start(const std::string& path, const std::string& api_key, const std::string& log_path,
                                 std::chrono::milliseconds timeout);

  FakeOpenAIProcess(FakeOpenAIProcess&& other) noexcept;
  FakeOpenAIProcess& operator=(FakeOpenAIProcess&& other) noexcept;
  FakeOpenAIProcess(const FakeOpenAIProcess&) = delete;
  FakeOpenAIProcess& operator=(const FakeOpenAIProcess&) = delete;
  ~FakeOpenAIProcess();  // stop(), so an early exit of the bench leaves no fake running

  pid_t pid() const { return pid_; }
  const std::string& url() const { return url_; }
  unsigned short port() const { return port_; }
  const std::string& log_path() const { return log_path_; }

  // SIGTERM (the fake closes its sessions and writes its summary line to the log), SIGKILL after `grace`.
  // nullopt if it was still running, as it should be; otherwise how it had ended by itself (it died during the run).
  // Does nothing once it has been called.
  std::optional<std::string> stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  // The fake's last line of output (after stop(): "fake-openai-server: N sessions, B bytes of callee audio
  // received"), empty if there is none.
  std::string last_log_line() const;

 private:
  FakeOpenAIProcess(pid_t pid, std::string url, unsigned short port, std::string log_path)
      : pid_(pid), url_(std::move(url)), port_(port), log_path_(std::move(log_path)) {}

  pid_t pid_ = -1;  // -1 once reaped
  std::string url_;
  unsigned short port_ = 0;
  std::string log_path_;
};

}  // namespace concierge::bench
