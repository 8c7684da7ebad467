// concierge-bench-flood: issue 10's listing flood, measured against the real daemon over loopback.
//
// The daemon starts with N finished calls in its call store (written straight into the SQLite file, shaped like its
// own records). Optionally concierge-bench plays Twilio for M concurrent calls against it; once they all stream, two
// clients flood GET /calls for the flood's length - one reading every page on a keep-alive connection, one sending
// ten pipelined requests on a socket with a tiny receive buffer and hanging up without reading - while a probe asks
// /health every 10 ms on a fresh connection, as a load balancer would. Printed: /health p50/p99/max, the daemon's
// event-loop lag over the flood (its /metrics histogram, before and after), what the flooders got, and the media
// run's frames (sent, back, lost) and round trip. Figures only: nothing here is asserted by the test command.
//
// Plain POSIX sockets and threads: the flooders must not be what limits the measurement, and this file adds no
// Asio/Beast instantiation to the build.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "call_database.hpp"
#include "daemon_metrics.hpp"
#include "process_stats.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr const char* kHelp = R"(concierge-bench-flood: GET /calls floods against the daemon, measured

  --daemon PATH          concierge-host to start (required)
  --config YAML          its config (default bench/bench.yaml)
  --bench PATH           concierge-bench, for concurrent calls during the flood ("" = none; default: next to this
                         program)
  --records N            finished calls in the call store (default 10000)
  --calls N              concurrent calls concierge-bench plays (default 500; 0 = none)
  --flood-seconds S      how long the two clients flood (default 10)
  --no-flood             the same run without the flood (a baseline for the figures)
  --only WHICH           flood with only the "reader" or only the "non-reader" (what each costs the daemon)
  --page-limit N         the flooders' ?limit= (default 500, the largest page)
  --echo-format F        ECHO_FORMAT for the daemon (default mulaw/8000)
  --nice N               BENCH_NICE for the daemon (server.nice; -10 puts its loop ahead of other work: needs root)
  --json FILE            the figures as JSON (default concierge-bench-flood.json)
  --daemon-log FILE      the daemon's output (default concierge-bench-flood-daemon.log)
  --bench-log FILE       concierge-bench's output (default concierge-bench-flood-bench.log)
  --help
)";

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "concierge-bench-flood: %s (see --help)\n", message.c_str());
  std::exit(2);
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// ---- sockets ----------------------------------------------------------------------------------------------------

int connect_loopback(int port, int receive_buffer = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (receive_buffer > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads one HTTP/1.1 response with a Content-Length body (the daemon's answers all have one); "" on error/timeout.
std::string read_response(int fd, std::string& buffer, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  for (;;) {
    const auto head_end = buffer.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::size_t length = 0;
      std::string head = buffer.substr(0, head_end);
      std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
      if (const auto at = head.find("content-length:"); at != std::string::npos)
        length = std::strtoull(head.c_str() + at + 15, nullptr, 10);
      const std::size_t total = head_end + 4 + length;
      if (buffer.size() >= total) {
        std::string response = buffer.substr(0, total);
        buffer.erase(0, total);
        return response;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return "";
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return "";
    char chunk[65536];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return "";
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string get_request(const std::string& path, const std::string& token, bool close) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n" +
         (close ? "Connection: close\r\n" : "") + "\r\n";
}

// One GET on a fresh connection; the whole answer, or "" when none came in time.
std::string fetch(int port, const std::string& path, const std::string& token,
                  std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const int fd = connect_loopback(port);
  if (fd < 0) return "";
  std::string buffer, response;
  if (send_all(fd, get_request(path, token, true))) response = read_response(fd, buffer, limit);
  ::close(fd);
  return response;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

// ---- child processes ------------------------------------------------------------------------------------------------

pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env,
            const std::string& log_file) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
  const int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log >= 0) {
    ::dup2(log, 1);
    ::dup2(log, 2);
  }
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  std::perror(args[0]);
  std::_Exit(127);
}

std::optional<int> wait_child(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

void stop_child(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  if (!wait_child(pid, std::chrono::seconds(10))) {
    ::kill(pid, SIGKILL);
    wait_child(pid, std::chrono::seconds(5));
  }
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<std::size_t>(p * static_cast<double>(values.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  std::string daemon_path, config = "bench/bench.yaml", echo_format = "mulaw/8000", nice = "0";
  std::string bench_path = (std::filesystem::path(argv[0]).parent_path() / "concierge-bench").string();
  std::string json_path = "concierge-bench-flood.json", daemon_log = "concierge-bench-flood-daemon.log",
              bench_log = "concierge-bench-flood-bench.log";
  int records = 10'000, calls = 500, page_limit = 500;
  double flood_seconds = 10;
  bool flood = true;
  std::string only;  // "": both flooders
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(flag + " needs a value");
      return argv[++i];
    };
    auto count = [&](const std::string& text) {
      char* end = nullptr;
      const long v = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end || v < 0) usage_error(flag + " takes a count, not \"" + text + "\"");
      return static_cast<int>(v);
    };
    if (flag == "--help" || flag == "-h") {
      std::cout << kHelp;
      return 0;
    } else if (flag == "--daemon") daemon_path = value();
    else if (flag == "--config") config = value();
    else if (flag == "--bench") bench_path = value();
    else if (flag == "--records") records = count(value());
    else if (flag == "--calls") calls = count(value());
    else if (flag == "--flood-seconds") flood_seconds = std::max(1, count(value()));
    else if (flag == "--no-flood") flood = false;
    else if (flag == "--only") {
      only = value();
      if (only != "reader" && only != "non-reader") usage_error("--only takes reader or non-reader");
    }
    else if (flag == "--page-limit") page_limit = std::max(1, count(value()));
    else if (flag == "--echo-format") echo_format = value();
    else if (flag == "--nice") nice = value();
    else if (flag == "--json") json_path = value();
    else if (flag == "--daemon-log") daemon_log = value();
    else if (flag == "--bench-log") bench_log = value();
    else usage_error("unknown option " + flag);
  }
  if (daemon_path.empty()) usage_error("--daemon is required");
  if (bench_path.empty()) calls = 0;
  ::signal(SIGPIPE, SIG_IGN);

  // The API token: the daemon, concierge-bench (for /metrics) and fetch_metrics all read it from the environment.
  const std::string token = "bench-flood-token-4f1c2a9e7d3b";
  ::setenv("CONCIERGE_API_TOKEN", token.c_str(), 1);
  const auto work = std::filesystem::temp_directory_path() / ("concierge-bench-flood-" + std::to_string(::getpid()));
  std::filesystem::create_directories(work);
  const std::string database = (work / "calls.db").string();
  std::printf("writing %d finished calls into %s...\n", records, database.c_str());
  std::fflush(stdout);
  if (const std::string error = concierge::bench::write_finished_calls(database, records); !error.empty())
    usage_error(error);

  const int port = free_port();
  const pid_t daemon = spawn({daemon_path, "--config", config},
                             {{"BENCH_PORT", std::to_string(port)},
                              {"BENCH_DATABASE", database},
                              {"BENCH_HISTORY_LIMIT", std::to_string(std::max(records + calls + 100, 100))},
                              {"ECHO_FORMAT", echo_format},
                              {"BENCH_NICE", nice}},
                             daemon_log);
  const auto started = Clock::now();
  while (fetch(port, "/health", token, std::chrono::seconds(1)).rfind("HTTP/1.1 200", 0) != 0) {
    if (ms_since(started) > 30'000 || wait_child(daemon, std::chrono::seconds(0))) {
      std::fprintf(stderr, "concierge-bench-flood: the daemon did not start (see %s)\n", daemon_log.c_str());
      stop_child(daemon);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string first_page = fetch(port, "/calls?limit=1", token);
  const auto body_at = first_page.find("\r\n\r\n");
  const json first = json::parse(body_at == std::string::npos ? "" : first_page.substr(body_at + 4), nullptr, false);
  const long long stored = first.is_object() ? first.value("total", -1LL) : -1LL;
  std::printf("daemon pid %d on port %d, up in %.0f ms with %lld calls listed\n", daemon, port, ms_since(started),
              stored);

  // The media load, started first: the flood begins once every call streams.
  pid_t bench = 0;
  const double bench_seconds = flood_seconds + 8;
  const std::string bench_json = (work / "bench.json").string();
  if (calls > 0) {
    bench = spawn({bench_path, "--url", "ws://127.0.0.1:" + std::to_string(port) + "/media-stream", "--pid",
                   std::to_string(daemon), "--calls", std::to_string(calls), "--duration",
                   std::to_string(bench_seconds), "--no-resampler-figures", "--json", bench_json},
                  {}, bench_log);
    const auto waiting = Clock::now();
    double active = 0;
    while (ms_since(waiting) < 30'000) {
      if (const auto metrics = concierge::bench::fetch_metrics("127.0.0.1", std::to_string(port)))
        active = concierge::bench::parse_value(*metrics, "concierge_active_calls").value_or(0);
      if (active >= calls) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::printf("%d calls streaming (%.0f active) after %.1f s\n", calls, active, ms_since(waiting) / 1000);
    // A second of steady streaming before the flood, so the window holds no ramp.
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::fflush(stdout);

  const auto metrics_before = concierge::bench::fetch_metrics("127.0.0.1", std::to_string(port));
  const auto cpu_before = concierge::bench::sample_process(daemon);
  std::atomic<bool> stop{false};
  std::atomic<long> pages_read{0}, reader_errors{0}, reader_refused{0}, requests_abandoned{0}, reader_bytes{0};
  std::atomic<long> non_reader_connections{0};
  std::vector<std::thread> flooders;
  const std::string page_path = "/calls?limit=" + std::to_string(page_limit);
  if (flood && only != "non-reader") {
    // The reader: the biggest page, again and again, on one keep-alive connection, every byte read.
    flooders.emplace_back([&] {
      int fd = connect_loopback(port);
      std::string buffer;
      while (!stop) {
        if (fd < 0 || !send_all(fd, get_request(page_path, token, false))) {
          ++reader_errors;
          if (fd >= 0) ::close(fd);
          fd = connect_loopback(port);
          continue;
        }
        const std::string page = read_response(fd, buffer, std::chrono::seconds(10));
        if (page.rfind("HTTP/1.1 200", 0) == 0) {
          ++pages_read;
          reader_bytes += static_cast<long>(page.size());
        } else if (page.rfind("HTTP/1.1 429", 0) == 0) {
          ++reader_refused;  // over its listing budget: asks again at once, on the same connection
        } else {
          ++reader_errors;
          ::close(fd);
          buffer.clear();
          fd = connect_loopback(port);
        }
      }
      if (fd >= 0) ::close(fd);
    });
  }
  if (flood && only != "reader") {
    // The non-reader: ten pipelined requests on a socket with a 4 KiB receive buffer, never read; at most 20 such
    // connections open at once, the oldest hung up on as each new one opens.
    flooders.emplace_back([&] {
      std::deque<int> open;
      std::string burst;
      for (int i = 0; i < 10; ++i) burst += get_request(page_path, token, false);
      while (!stop) {
        const int fd = connect_loopback(port, 4096);
        if (fd >= 0) {
          ++non_reader_connections;
          // Non-blocking: a daemon that stops reading must not stall the flooder.
          ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
          if (::send(fd, burst.data(), burst.size(), MSG_NOSIGNAL) > 0) requests_abandoned += 10;
          open.push_back(fd);
        }
        if (open.size() > 20) {
          ::close(open.front());
          open.pop_front();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      for (int fd : open) ::close(fd);
    });
  }
  // The probe: /health every 10 ms on a fresh connection.
  std::vector<double> health_ms;
  int health_failures = 0;
  const auto window_start = Clock::now();
  while (ms_since(window_start) < flood_seconds * 1000) {
    const auto probe_start = Clock::now();
    const std::string response = fetch(port, "/health", token);
    if (response.rfind("HTTP/1.1 200", 0) == 0) health_ms.push_back(ms_since(probe_start));
    else ++health_failures;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  for (auto& thread : flooders) thread.join();
  const double window_s = ms_since(window_start) / 1000;
  const auto cpu_after = concierge::bench::sample_process(daemon);
  const auto metrics_after = concierge::bench::fetch_metrics("127.0.0.1", std::to_string(port));
  // The daemon's CPU over the window (all its threads), in ms per second of the window.
  const double daemon_cpu_ms_per_s =
      cpu_before && cpu_after ? (cpu_after->cpu_seconds - cpu_before->cpu_seconds) * 1000 / window_s : -1;

  // The loop's lag over the window: the histogram's difference, its p99 bucket bound, its mean and its worst bucket.
  json lag = nullptr;
  if (metrics_before && metrics_after) {
    const char* name = "concierge_event_loop_lag_milliseconds";
    const auto before = concierge::bench::parse_histogram(*metrics_before, name, "");
    const auto after = concierge::bench::parse_histogram(*metrics_after, name, "");
    if (before && after && before->buckets.size() == after->buckets.size())
      if (const auto delta = concierge::bench::histogram_delta(*before, *after)) {
        double worst = 0;  // the smallest bound every observation fell under
        for (std::size_t i = 0; i < after->buckets.size(); ++i)
          if (after->buckets[i].second - before->buckets[i].second >= delta->count) {
            worst = after->buckets[i].first;
            break;
          }
        // Ticks later than the 5 ms target, and the p99 as Prometheus' histogram_quantile() estimates it (linear
        // within its bucket): the bucket bound alone only says "at most".
        double within_5ms = 0, p99_estimate = delta->p99_upper_bound;
        for (std::size_t i = 0; i < after->buckets.size(); ++i)
          if (after->buckets[i].first <= 5) within_5ms = after->buckets[i].second - before->buckets[i].second;
        for (std::size_t i = 0; i < after->buckets.size(); ++i) {
          const double bound = after->buckets[i].first;
          const double cumulative = after->buckets[i].second - before->buckets[i].second;
          if (cumulative >= 0.99 * delta->count && !std::isinf(bound)) {
            const double lower = i ? after->buckets[i - 1].first : 0;
            const double below = i ? after->buckets[i - 1].second - before->buckets[i - 1].second : 0;
            p99_estimate = lower + (bound - lower) * (0.99 * delta->count - below) / std::max(1.0, cumulative - below);
            break;
          }
        }
        // The loop's thread waiting for a CPU (the machine's other load) over the window, per second.
        json waited = nullptr;
        const char* run_delay = "concierge_event_loop_run_delay_seconds_total";
        const auto delay_before = concierge::bench::parse_value(*metrics_before, run_delay);
        const auto delay_after = concierge::bench::parse_value(*metrics_after, run_delay);
        if (delay_before && delay_after) waited = (*delay_after - *delay_before) * 1000 / window_s;
        lag = {{"samples", delta->count},
               {"waited_for_cpu_ms_per_second", waited},
               {"mean_ms", delta->mean},
               {"p99_at_most_ms", std::isinf(delta->p99_upper_bound) ? json("+Inf") : json(delta->p99_upper_bound)},
               {"p99_interpolated_ms", std::isinf(p99_estimate) ? json("+Inf") : json(p99_estimate)},
               {"over_5ms", delta->count - within_5ms},
               {"max_at_most_ms", std::isinf(worst) ? json("+Inf") : json(worst)}};
      }
  }

  json media = nullptr;
  if (bench) {
    const auto status = wait_child(bench, std::chrono::seconds(static_cast<long>(bench_seconds) + 60));
    if (!status) stop_child(bench);
    std::ifstream in(bench_json);
    const json report = json::parse(in, nullptr, false);
    if (report.is_object() && report.contains("levels") && !report["levels"].empty()) {
      const json& level = report["levels"][0];
      media = {{"calls", level["calls"]},
               {"connected", level["connected"]},
               {"closed_early", level["closed_early"]},
               {"frames", level["frames"]},
               {"round_trip_ms", level["round_trip_ms"]},
               {"realtime_ratio", level["realtime_ratio"]},
               {"daemon_loop_lag_p99_at_most_ms", level.value("daemon_loop_lag_p99_le_ms", json())}};
    } else {
      std::fprintf(stderr, "concierge-bench-flood: concierge-bench wrote no result (see %s)\n", bench_log.c_str());
    }
  }
  const bool daemon_alive = !wait_child(daemon, std::chrono::seconds(0));
  stop_child(daemon);
  std::filesystem::remove_all(work);

  const double p50 = percentile(health_ms, 0.5), p99 = percentile(health_ms, 0.99), max = percentile(health_ms, 1.0);
  const std::string who = only.empty() ? "one reader + one non-reader" : "only the " + only;
  const std::string what = flood ? "flood: " + who + " on GET " + page_path : std::string("no flood (baseline)");
  std::printf("\n%s, %d stored calls, %d concurrent calls, %.1f s window, daemon nice %s\n", what.c_str(), records,
              calls, window_s, nice.c_str());
  if (flood)
    std::printf("  reader: %ld pages (%.1f MB) read, %ld answered 429, %ld errors; non-reader: %ld requests sent and "
                "abandoned on %ld connections\n",
                pages_read.load(), static_cast<double>(reader_bytes.load()) / 1e6, reader_refused.load(),
                reader_errors.load(), requests_abandoned.load(), non_reader_connections.load());
  std::printf("  daemon CPU over the window: %.0f ms per second (all threads; 1000 = one core)\n", daemon_cpu_ms_per_s);
  std::printf("  /health: %zu probes, p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d failed   (target p99 < 20 ms)\n",
              health_ms.size(), p50, p99, max, health_failures);
  if (lag.is_object())
    std::printf("  event-loop lag: %s samples, mean %.3f ms, p99 <= %s ms (interpolated %s), %s ticks over 5 ms, "
                "max <= %s ms   (target < 5 ms); the loop's thread waited %s ms per second for a CPU\n",
                lag["samples"].dump().c_str(), lag["mean_ms"].get<double>(), lag["p99_at_most_ms"].dump().c_str(),
                lag["p99_interpolated_ms"].dump().c_str(), lag["over_5ms"].dump().c_str(),
                lag["max_at_most_ms"].dump().c_str(), lag["waited_for_cpu_ms_per_second"].dump().c_str());
  if (media.is_object())
    std::printf("  media: %s of %s calls connected, %s closed early; frames sent %s, back %s, lost %s, late %s; "
                "round trip p50 %s / p99 %s / max %s ms   (target: none lost)\n",
                media["connected"].dump().c_str(), media["calls"].dump().c_str(), media["closed_early"].dump().c_str(),
                media["frames"]["sent"].dump().c_str(), media["frames"]["received"].dump().c_str(),
                media["frames"]["lost"].dump().c_str(), media["frames"]["late_over_20ms"].dump().c_str(),
                media["round_trip_ms"]["p50"].dump().c_str(), media["round_trip_ms"]["p99"].dump().c_str(),
                media["round_trip_ms"]["max"].dump().c_str());
  if (!daemon_alive) std::printf("  THE DAEMON EXITED during the run (see %s)\n", daemon_log.c_str());
  const json out{{"flood", flood},
                 {"daemon_nice", nice},
                 {"records", records},
                 {"stored_calls_listed", stored},
                 {"page_limit", page_limit},
                 {"window_seconds", window_s},
                 {"reader", {{"pages", pages_read.load()}, {"bytes", reader_bytes.load()}, {"refused_429", reader_refused.load()},
                             {"errors", reader_errors.load()}}},
                 {"non_reader_requests_abandoned", requests_abandoned.load()},
                 {"only", only.empty() ? json() : json(only)},
                 {"non_reader_connections", non_reader_connections.load()},
                 {"daemon_cpu_ms_per_second", daemon_cpu_ms_per_s},
                 {"health_ms", {{"probes", health_ms.size()}, {"p50", p50}, {"p99", p99}, {"max", max},
                                {"failed", health_failures}}},
                 {"event_loop_lag", lag},
                 {"media", media},
                 {"daemon_survived", daemon_alive}};
  std::ofstream(json_path) << out.dump(2) << '\n';
  std::printf("figures written to %s\n", json_path.c_str());
  return daemon_alive ? 0 : 1;
}
