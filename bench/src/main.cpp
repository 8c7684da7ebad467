// concierge-bench: plays Twilio's side of N concurrent calls against a daemon's /media-stream and reports round-trip
// latency, frame counts and what the daemon spends per call. See --help.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/net/asio.hpp"
#include "daemon_metrics.hpp"
#include "fake_openai_process.hpp"
#include "load_generator.hpp"
#include "process_stats.hpp"
#include "dtmf_figures.hpp"
#include "resampler_figures.hpp"

namespace {

using concierge::bench::LevelResult;
using concierge::bench::LoadOptions;

constexpr const char* kHelp = R"(concierge-bench: Twilio Media Streams load generator

  --url ws://HOST:PORT/PATH   the media-stream endpoint (default ws://127.0.0.1:8099/media-stream); with
                              --spawn-daemon, port 0 lets the daemon pick a free port
  --calls LIST                concurrent calls per level, comma-separated (default 1,10,100,500,1000,2000)
  --duration S                measured audio per call, seconds (default 10)
  --ramp S                    spread call starts over S seconds (default: 0.5 + 2 ms per call, at most 5)
  --pause S                   pause between levels (default 4: the daemon ends calls 3 s after "stop")
  --auth-token T              sign the upgrade with X-Twilio-Signature (default bench-auth-token; "" = no header)
  --public-domain D           host name in the signed URL wss://D/PATH (default concierge-bench.local)
  --pid N                     the daemon's pid for CPU and memory (default: the process listening on the port)
  --spawn-daemon PATH         start concierge-host at PATH first (and stop it at the end); needs --config
  --config YAML               the daemon's config (bench/bench.yaml)
  --echo-format F             ECHO_FORMAT for the spawned daemon: pcm16/24000 (resampling, default) or mulaw/8000
  --daemon-log FILE           the spawned daemon's output (default concierge-bench-daemon.log)
  --fake-openai PATH          start fake-openai-server at PATH first (--echo, a free port) and stop it at the end;
                              the spawned daemon gets FAKE_OPENAI_PORT and FAKE_OPENAI_API_KEY for it (use with
                              --config bench/bench-openai.yaml); needs --spawn-daemon
  --fake-openai-log FILE      its output (default concierge-bench-fake-openai.log next to --daemon-log)
  --json FILE                 write the results as JSON (default concierge-bench.json)
  --plot FILE.png             plot latency and CPU per call against the call count (gnuplot)
  --no-resampler-figures      skip measuring the SDK's per-frame DSP (resampler engines, keypad tones)
  --find-limit                after the --calls levels, search for the largest N that holds: every call
                              connected, no frame lost, round-trip p99 under --hold-p99-ms, real time kept
                              (doubling past the largest level that held, then halving the gap to ~5%)
  --hold-p99-ms MS            the p99 that "holds" means for --find-limit (default 5)
  --max-calls N               --find-limit goes no higher (default 10000)
  --smoke                     CI mode: 2 calls for 3 s; exit 1 unless frames round-trip
  --help
)";

struct Args {
  std::string url = "ws://127.0.0.1:8099/media-stream";
  std::vector<unsigned> calls{1, 10, 100, 500, 1000, 2000};
  double duration = 10;
  std::optional<double> ramp;
  double pause = 4;
  std::string auth_token = "bench-auth-token";
  std::string public_domain = "concierge-bench.local";
  std::optional<pid_t> pid;
  std::string spawn_daemon, config, echo_format = "pcm16/24000", daemon_log = "concierge-bench-daemon.log";
  std::string fake_openai, fake_openai_log;  // the log's default depends on --daemon-log, settled after parsing
  std::string json_path = "concierge-bench.json", plot_path;
  bool resampler_figures = true;
  bool smoke = false;
  bool find_limit = false;
  double hold_p99_ms = 5;
  unsigned max_calls = 10000;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "concierge-bench: " << message << " (see --help)\n";
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  bool calls_given = false, duration_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(flag + " needs a value");
      return argv[++i];
    };
    auto number = [&](const std::string& text) {
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || v < 0) usage_error(flag + " takes a non-negative number, not \"" + text + "\"");
      return v;
    };
    if (flag == "--help" || flag == "-h") {
      std::cout << kHelp;
      std::exit(0);
    } else if (flag == "--url") a.url = value();
    else if (flag == "--calls") {
      a.calls.clear();
      std::stringstream list(value());
      for (std::string item; std::getline(list, item, ',');) {
        const double n = number(item);
        if (n < 1) usage_error("--calls takes counts >= 1");
        a.calls.push_back(static_cast<unsigned>(n));
      }
      calls_given = true;
    } else if (flag == "--duration") a.duration = number(value()), duration_given = true;
    else if (flag == "--ramp") a.ramp = number(value());
    else if (flag == "--pause") a.pause = number(value());
    else if (flag == "--auth-token") a.auth_token = value();
    else if (flag == "--public-domain") a.public_domain = value();
    else if (flag == "--pid") a.pid = static_cast<pid_t>(number(value()));
    else if (flag == "--spawn-daemon") a.spawn_daemon = value();
    else if (flag == "--config") a.config = value();
    else if (flag == "--echo-format") a.echo_format = value();
    else if (flag == "--daemon-log") a.daemon_log = value();
    else if (flag == "--fake-openai") a.fake_openai = value();
    else if (flag == "--fake-openai-log") a.fake_openai_log = value();
    else if (flag == "--json") a.json_path = value();
    else if (flag == "--plot") a.plot_path = value();
    else if (flag == "--no-resampler-figures") a.resampler_figures = false;
    else if (flag == "--smoke") a.smoke = true;
    else if (flag == "--find-limit") a.find_limit = true;
    else if (flag == "--hold-p99-ms") a.hold_p99_ms = number(value());
    else if (flag == "--max-calls") a.max_calls = static_cast<unsigned>(std::max(1.0, number(value())));
    else usage_error("unknown option " + flag);
  }
  if (a.smoke) {
    if (!calls_given) a.calls = {2};
    if (!duration_given) a.duration = 3;
  }
  if (a.duration < 0.1) usage_error("--duration must be at least 0.1 s");
  if (!a.spawn_daemon.empty() && a.config.empty()) usage_error("--spawn-daemon needs --config");
  // The fake exists for the daemon's plugin: it reaches a daemon only through the environment of one we spawn.
  if (!a.fake_openai.empty() && a.spawn_daemon.empty()) usage_error("--fake-openai needs --spawn-daemon");
  if (a.fake_openai.empty() && !a.fake_openai_log.empty()) usage_error("--fake-openai-log needs --fake-openai");
  if (a.fake_openai_log.empty())
    a.fake_openai_log = (std::filesystem::path(a.daemon_log).parent_path() / "concierge-bench-fake-openai.log").string();
  return a;
}

struct Url {
  std::string host, port, path;
};

Url parse_url(const std::string& url) {
  const std::string scheme = "ws://";
  if (url.rfind(scheme, 0) != 0) usage_error("--url must start with ws:// (got \"" + url + "\")");
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  Url u;
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  u.host = colon == std::string::npos ? authority : authority.substr(0, colon);
  u.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (u.host.empty() || u.port.empty()) usage_error("cannot read host and port from --url " + url);
  return u;
}

bool port_accepts(const std::string& host, const std::string& port) {
  try {
    concierge::net::asio::io_context io;
    concierge::net::tcp::resolver resolver(io);
    concierge::net::tcp::socket socket(io);
    concierge::net::asio::connect(socket, resolver.resolve(host, port));
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// Starts the daemon and waits until it listens. With port 0 in --url the daemon picks a free port itself and `url`
// gets the one it chose: no other process (a parallel test) can take a port between our choosing and its binding.
pid_t spawn_daemon(const Args& args, Url& url) {
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (child == 0) {
    const int log = ::open(args.daemon_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
      close(log);
    }
    // As for the fake: if the bench dies without stopping it (a crash, SIGKILL), the kernel sends the daemon SIGTERM.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    setenv("ECHO_FORMAT", args.echo_format.c_str(), 1);
    setenv("BENCH_PORT", url.port.c_str(), 1);
    setenv("BENCH_AUTH_TOKEN", args.auth_token.c_str(), 1);
    setenv("BENCH_PUBLIC_DOMAIN", args.public_domain.c_str(), 1);
    execl(args.spawn_daemon.c_str(), args.spawn_daemon.c_str(), "--config", args.config.c_str(), "--port",
          url.port.c_str(), "--host", url.host.c_str(), static_cast<char*>(nullptr));
    std::perror("exec concierge-host");
    _exit(127);
  }
  const bool own_port = url.port == "0";
  for (int tries = 0; tries < 600; ++tries) {  // up to 30 s (a loaded CI machine loads plugins slowly)
    int status = 0;
    if (waitpid(child, &status, WNOHANG) == child) {
      std::cerr << "concierge-bench: the daemon exited during start-up (see " << args.daemon_log << ")\n";
      std::exit(1);
    }
    if (own_port) {
      if (const auto port = concierge::bench::port_listened_on_by(child)) url.port = std::to_string(*port);
    }
    if (url.port != "0" && port_accepts(url.host, url.port)) return child;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  std::cerr << "concierge-bench: the daemon did not listen on " << url.host << ":" << url.port << " within 30 s (see "
            << args.daemon_log << ")\n";
  std::exit(1);
}

// The key the fake demands and the daemon's plugin sends. Set for the daemon explicitly (bench-openai.yaml's default
// is the same) so that a real OPENAI key or another FAKE_OPENAI_API_KEY in the user's environment cannot mismatch.
constexpr const char* kFakeOpenAIKey = "sk-bench-key";

// Static storage: std::exit (spawn_daemon's failures) destroys it, and its destructor stops the fake,
// so no error path leaves one running. (A crash or SIGKILL is covered by the child's PR_SET_PDEATHSIG.)
std::optional<concierge::bench::FakeOpenAIProcess> g_fake_openai;

void start_fake_openai(const Args& args) {
  try {
    g_fake_openai = concierge::bench::FakeOpenAIProcess::start(args.fake_openai, kFakeOpenAIKey, args.fake_openai_log,
                                                               std::chrono::seconds(30));
  } catch (const std::exception& e) {
    std::cerr << "concierge-bench: " << e.what() << "\n";
    std::exit(1);
  }
  // Set in our own environment before the fork in spawn_daemon: the daemon inherits it and bench-openai.yaml's
  // ${FAKE_OPENAI_PORT} resolves to the fake's port.
  setenv("FAKE_OPENAI_PORT", std::to_string(g_fake_openai->port()).c_str(), 1);
  setenv("FAKE_OPENAI_API_KEY", kFakeOpenAIKey, 1);
  std::printf("fake-openai-server %s (pid %d, log %s)\n", g_fake_openai->url().c_str(), int(g_fake_openai->pid()),
              args.fake_openai_log.c_str());
  std::fflush(stdout);
}

void stop_daemon(pid_t child) {
  kill(child, SIGTERM);
  for (int tries = 0; tries < 100; ++tries) {
    if (waitpid(child, nullptr, WNOHANG) == child) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
}

std::string fixed(double v, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
  return buffer;
}

nlohmann::json to_json(const LevelResult& r) {
  nlohmann::json j{{"calls", r.calls},
                   {"connected", r.connected},
                   {"failed_to_connect", r.failed_to_connect},
                   {"closed_early", r.closed_early},
                   {"matching", {{"exact_calls", r.exact_calls}, {"by_position_calls", r.counted_calls}}},
                   {"frames",
                    {{"sent", r.frames_sent},
                     {"received", r.frames_received},
                     {"late_over_20ms", r.frames_late},
                     {"lost", r.frames_lost},
                     {"altered", r.frames_altered}}},
                   {"media_messages_received", r.media_messages_received},
                   {"marks_echoed", r.marks_echoed},
                   {"round_trip_ms",
                    {{"p50", r.latency_p50_ms}, {"p99", r.latency_p99_ms}, {"max", r.latency_max_ms},
                     {"mean", r.latency_mean_ms}}},
                   {"audio_in_flight_ms", {{"mean", r.in_flight_mean_ms}, {"p99", r.in_flight_p99_ms}}},
                   {"generator_send_lag_ms", {{"p99", r.send_lag_p99_ms}, {"max", r.send_lag_max_ms}}},
                   {"steady_window_seconds", r.steady_seconds},
                   {"realtime_ratio", r.realtime_ratio ? nlohmann::json(*r.realtime_ratio) : nlohmann::json()},
                   {"errors", r.errors}};
  j["daemon_cpu_seconds_per_call_second"] =
      r.cpu_seconds_per_call_second ? nlohmann::json(*r.cpu_seconds_per_call_second) : nlohmann::json();
  j["daemon_rss_bytes_per_call"] = r.rss_bytes_per_call ? nlohmann::json(*r.rss_bytes_per_call) : nlohmann::json();
  j["generator_cpu_seconds_per_call_second"] = r.generator_cpu_seconds_per_call_second
                                                   ? nlohmann::json(*r.generator_cpu_seconds_per_call_second)
                                                   : nlohmann::json();
  j["daemon_rss_bytes"] = r.daemon_rss_bytes ? nlohmann::json(*r.daemon_rss_bytes) : nlohmann::json();
  auto frame_time = [](const std::optional<LevelResult::FrameTime>& t) {
    if (!t) return nlohmann::json();
    return nlohmann::json{{"mean_us", t->mean_us},
                          {"p99_at_most_us", std::isinf(t->p99_le_us) ? nlohmann::json("+Inf") : nlohmann::json(t->p99_le_us)},
                          {"frames", t->frames}};
  };
  j["daemon_frame_processing"] = {{"in", frame_time(r.host_in)}, {"out", frame_time(r.host_out)}};
  j["daemon_loop_lag_p99_at_most_ms"] =
      r.loop_lag_p99_le_ms ? (std::isinf(*r.loop_lag_p99_le_ms) ? nlohmann::json("+Inf") : nlohmann::json(*r.loop_lag_p99_le_ms))
                           : nlohmann::json();
  j["daemon_refused_overloaded"] = r.refused_overload ? nlohmann::json(*r.refused_overload) : nlohmann::json();
  return j;
}

void print_table(const std::vector<LevelResult>& results) {
  std::printf("\n%6s %6s %8s %8s %8s %8s %7s %6s %6s %9s %9s %8s %9s %5s %10s %10s %9s %9s %9s %6s %5s\n",
              "calls", "conn", "sent", "recv", "late", "lost", "altrd", "early", "p50ms", "p99ms", "maxms", "inflight", "genlag99", "rt%",
              "cpu/call-s", "gencpu", "rss/call", "in-us", "out-us", "lag99", "503s");
  for (const auto& r : results) {
    auto frame_time = [](const std::optional<LevelResult::FrameTime>& t) {
      if (!t) return std::string("-");
      return fixed(t->mean_us, 1) + "/" + (std::isinf(t->p99_le_us) ? std::string("inf") : fixed(t->p99_le_us, 0));
    };
    std::printf("%6u %6u %8llu %8llu %8llu %8llu %7llu %6u %6s %9s %9s %8s %9s %5s %10s %10s %9s %9s %9s %6s %5s\n",
                r.calls, r.connected,
                (unsigned long long)r.frames_sent, (unsigned long long)r.frames_received,
                (unsigned long long)r.frames_late, (unsigned long long)r.frames_lost,
                (unsigned long long)r.frames_altered, r.closed_early, fixed(r.latency_p50_ms, 2).c_str(),
                fixed(r.latency_p99_ms, 2).c_str(), fixed(r.latency_max_ms, 1).c_str(),
                fixed(r.in_flight_mean_ms, 2).c_str(),
                fixed(r.send_lag_p99_ms, 2).c_str(),
                r.realtime_ratio ? fixed(*r.realtime_ratio * 100, 0).c_str() : "-",
                r.cpu_seconds_per_call_second ? fixed(*r.cpu_seconds_per_call_second, 5).c_str() : "-",
                r.generator_cpu_seconds_per_call_second ? fixed(*r.generator_cpu_seconds_per_call_second, 5).c_str()
                                                        : "-",
                r.rss_bytes_per_call ? (fixed(*r.rss_bytes_per_call / 1024.0, 0) + "KiB").c_str() : "-",
                frame_time(r.host_in).c_str(), frame_time(r.host_out).c_str(),
                r.loop_lag_p99_le_ms ? (std::isinf(*r.loop_lag_p99_le_ms) ? std::string("inf")
                                                                         : fixed(*r.loop_lag_p99_le_ms, 1)).c_str()
                                     : "-",
                r.refused_overload ? fixed(*r.refused_overload, 0).c_str() : "-");
    for (const auto& e : r.errors) std::printf("         error: %s\n", e.c_str());
  }
  std::printf("(p50/p99/max: round trip of a whole frame, until its last sample is back; inflight: mean audio sent\n"
              " but not yet back when media arrives, ms - the audio's own delay on a resampling path;\n");
  std::printf(" late: round trip > 20 ms; genlag99: p99 of how late the generator itself sent a frame; rt%%: frames\n"
              " returned in the steady window / real time's 50 per call-second; cpu/call-s: daemon CPU seconds per\n"
              " second of one call, over the window when all calls streamed - it reads low when rt%% is below ~98;\n"
              " gencpu: the same for this generator; rss/call: the daemon's growth over its idle size, per call;\n"
              " in-us/out-us: the daemon's own work per frame and direction from its /metrics, mean/p99 bucket bound;\n"
              " lag99: p99 bucket bound of the daemon's event-loop lag, ms; 503s: streams it refused as overloaded)\n");
}

bool plot(const std::vector<LevelResult>& results, const std::string& png) {
  const std::string data = png + ".dat", script = png + ".gp";
  {
    std::ofstream out(data);
    out << "# calls p50_ms p99_ms max_ms cpu_ms_per_call_second rss_kib_per_call in_flight_ms "
           "generator_cpu_ms_per_call_second\n";
    for (const auto& r : results) {
      // A level without a CPU figure (it did not reach a steady window) is left out of the CPU plot ("?").
      out << r.calls << ' ' << r.latency_p50_ms << ' ' << r.latency_p99_ms << ' ' << r.latency_max_ms << ' ';
      if (r.cpu_seconds_per_call_second) out << *r.cpu_seconds_per_call_second * 1000;
      else out << '?';
      out << ' ' << (r.rss_bytes_per_call ? *r.rss_bytes_per_call / 1024 : 0) << ' ' << r.in_flight_mean_ms << ' ';
      if (r.generator_cpu_seconds_per_call_second) out << *r.generator_cpu_seconds_per_call_second * 1000;
      else out << '?';
      out << '\n';
    }
  }
  std::ofstream gp(script);
  gp << "set terminal pngcairo size 1000,700 noenhanced\n"
     << "set output '" << png << "'\n"
     << "set multiplot layout 2,1 title 'concierge-bench: Twilio media streams through the daemon'\n"
     << "set logscale x\nset grid\nset xlabel 'concurrent calls'\n"
     << "set ylabel 'round trip (ms)'\nset key left top\n"
     << "set datafile missing '?'\n"
     << "plot '" << data << "' using 1:2 with linespoints title 'p50', '' using 1:3 with linespoints title 'p99', "
     << "'' using 1:4 with linespoints title 'max', '' using 1:7 with linespoints title 'audio in flight (mean)'\n"
     << "set ylabel 'CPU ms per call-second'\n"
     << "plot '" << data << "' using 1:5 with linespoints title 'daemon', "
     << "'' using 1:8 with linespoints title 'load generator'\n"
     << "unset multiplot\n";
  gp.close();
  const std::string command = "gnuplot '" + script + "'";
  if (std::system(command.c_str()) != 0) {
    // pngcairo is missing from some gnuplot builds; fall back to the plain png terminal.
    std::string text;
    {
      std::ifstream in(script);
      std::stringstream s;
      s << in.rdbuf();
      text = s.str();
    }
    text.replace(text.find("pngcairo"), 8, "png");
    std::ofstream(script) << text;
    if (std::system(command.c_str()) != 0) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  const Args args = parse(argc, argv);
  Url url = parse_url(args.url);

  if (!args.fake_openai.empty()) start_fake_openai(args);
  std::optional<pid_t> spawned;
  if (!args.spawn_daemon.empty()) {
    // The spawned daemon's API token, inherited through our environment; fetch_metrics sends it. Unless the user
    // chose one, a fresh one per run (the bench plays Twilio and needs the token only for /metrics).
    if (const char* token = std::getenv("CONCIERGE_API_TOKEN"); !token || !*token)
      setenv("CONCIERGE_API_TOKEN", ("concierge-bench-" + std::to_string(getpid()) + "-" +
                                     std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))
                                        .c_str(),
             1);
    spawned = spawn_daemon(args, url);
  }
  const std::string target = "ws://" + url.host + ":" + url.port + url.path;

  nlohmann::json report;
  report["url"] = target;
  if (args.resampler_figures) {
    std::printf("SDK resampler engines, 20 ms frames (delay = content lag + mean audio held back between frames;\n"
                "cost = CPU per frame, one resampler hot / 1,000 taken in turn; state = heap per resampler):\n");
    nlohmann::json figures = nlohmann::json::array();
    for (const auto& f : concierge::bench::measure_resampler_figures()) {
      std::printf("  %-13s %5u -> %5u Hz: delay %.2f ms (lag %.3f, held mean %.2f, max %.2f), 997 Hz SNR %.1f dB",
                  f.engine.c_str(), f.in_rate, f.out_rate, f.delay_ms, f.lag_ms, f.mean_held_ms, f.max_held_ms,
                  f.snr_db);
      if (f.suppression_5k_db >= 0) std::printf(", 5 kHz suppressed %.1f dB", f.suppression_5k_db);
      std::printf(", cost %.2f / %.2f us, state %zu KiB\n", f.us_per_frame_hot, f.us_per_frame_1000,
                  (f.state_bytes + 1023) / 1024);
      figures.push_back({{"engine", f.engine},
                         {"in_rate", f.in_rate},
                         {"out_rate", f.out_rate},
                         {"delay_ms", f.delay_ms},
                         {"lag_ms", f.lag_ms},
                         {"held_mean_ms", f.mean_held_ms},
                         {"held_max_ms", f.max_held_ms},
                         {"snr_997hz_db", f.snr_db},
                         {"suppression_5khz_db", f.suppression_5k_db >= 0 ? nlohmann::json(f.suppression_5k_db)
                                                                          : nlohmann::json()},
                         {"us_per_frame_hot", f.us_per_frame_hot},
                         {"us_per_frame_1000_resamplers", f.us_per_frame_1000},
                         {"state_bytes", f.state_bytes}});
    }
    report["resampler"] = figures;
    const auto dtmf = concierge::bench::measure_dtmf_figures();
    std::printf("SDK keypad tones (DTMF), 20 ms frames at 8 kHz (cost = CPU per frame, one hot / 1,000 in turn):\n"
                "  generator %.2f / %.2f us, %zu bytes; detector %.2f / %.2f us, %zu bytes (no heap after start)\n",
                dtmf.generator_us_hot, dtmf.generator_us_1000, dtmf.generator_bytes, dtmf.detector_us_hot,
                dtmf.detector_us_1000, dtmf.detector_bytes);
    std::printf("SDK voicemail beep detector, the same frames hearing a steady tone: %.2f / %.2f us, %zu bytes\n",
                dtmf.beep_us_hot, dtmf.beep_us_1000, dtmf.beep_bytes);
    report["dtmf"] = {{"generator_us_per_frame_hot", dtmf.generator_us_hot},
                      {"generator_us_per_frame_1000", dtmf.generator_us_1000},
                      {"generator_state_bytes", dtmf.generator_bytes},
                      {"detector_us_per_frame_hot", dtmf.detector_us_hot},
                      {"detector_us_per_frame_1000", dtmf.detector_us_1000},
                      {"detector_state_bytes", dtmf.detector_bytes},
                      {"beep_detector_us_per_frame_hot", dtmf.beep_us_hot},
                      {"beep_detector_us_per_frame_1000", dtmf.beep_us_1000},
                      {"beep_detector_state_bytes", dtmf.beep_bytes}};
  }

  LoadOptions options;
  options.host = url.host;
  options.port = url.port;
  options.path = url.path;
  options.auth_token = args.auth_token;
  options.public_domain = args.public_domain;
  options.duration_seconds = args.duration;
  // CI machines stall for whole seconds at times: give the last frames longer to come back before "stop".
  if (args.smoke) options.drain_seconds = 3.0;
  options.run_id = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  options.daemon_pid = spawned ? spawned : args.pid;
  if (!options.daemon_pid) {
    const bool local = url.host == "127.0.0.1" || url.host == "localhost" || url.host == "::1";
    if (local) options.daemon_pid = concierge::bench::pid_listening_on(static_cast<unsigned short>(std::stoi(url.port)));
  }
  if (options.daemon_pid)
    if (const auto idle = concierge::bench::sample_process(*options.daemon_pid)) options.daemon_idle_rss_bytes = idle->rss_bytes;
  std::printf("target %s, daemon pid %s\n", target.c_str(),
              options.daemon_pid ? std::to_string(*options.daemon_pid).c_str() : "unknown (no CPU/memory figures)");

  std::vector<LevelResult> results;
  // One level: N calls, then what the daemon's /metrics say about it.
  auto run_one = [&](unsigned n) {
    options.ramp_seconds = args.ramp ? *args.ramp : std::min(5.0, 0.5 + 0.002 * n);
    if (args.smoke && !args.ramp) options.ramp_seconds = 0.2;
    std::printf("level: %u calls, %.1f s each (ramp %.1f s)...\n", n, args.duration, options.ramp_seconds);
    std::fflush(stdout);
    const auto metrics_before = concierge::bench::fetch_metrics(url.host, url.port);
    results.push_back(concierge::bench::run_level(options, n));
    if (const auto metrics_after = metrics_before ? concierge::bench::fetch_metrics(url.host, url.port) : std::nullopt) {
      auto frame_time = [&](const char* direction) -> std::optional<LevelResult::FrameTime> {
        const std::string label = std::string("direction=\"") + direction + "\"";
        const char* name = "concierge_frame_processing_microseconds";
        const auto before = concierge::bench::parse_histogram(*metrics_before, name, label);
        const auto after = concierge::bench::parse_histogram(*metrics_after, name, label);
        if (!before || !after) return std::nullopt;
        const auto delta = concierge::bench::histogram_delta(*before, *after);
        if (!delta) return std::nullopt;
        return LevelResult::FrameTime{delta->mean, delta->p99_upper_bound, delta->count};
      };
      results.back().host_in = frame_time("in");
      results.back().host_out = frame_time("out");
      const char* lag = "concierge_event_loop_lag_milliseconds";
      const auto lag_before = concierge::bench::parse_histogram(*metrics_before, lag, "");
      const auto lag_after = concierge::bench::parse_histogram(*metrics_after, lag, "");
      if (lag_before && lag_after)
        if (const auto delta = concierge::bench::histogram_delta(*lag_before, *lag_after))
          results.back().loop_lag_p99_le_ms = delta->p99_upper_bound;
      const char* refused = "concierge_calls_refused_overload_total";
      const auto refused_before = concierge::bench::parse_value(*metrics_before, refused);
      const auto refused_after = concierge::bench::parse_value(*metrics_after, refused);
      if (refused_before && refused_after) results.back().refused_overload = *refused_after - *refused_before;
    }
  };
  auto pause = [&] { std::this_thread::sleep_for(std::chrono::milliseconds(long(args.pause * 1000))); };
  for (std::size_t i = 0; i < args.calls.size(); ++i) {
    run_one(args.calls[i]);
    if (i + 1 < args.calls.size() || args.find_limit) pause();
  }
  // What "holds" means: the issue's bar for a level, checked on what was measured.
  auto holds = [&](const LevelResult& r) {
    return r.connected == r.calls && r.closed_early == 0 && r.frames_lost == 0 && r.frames_sent > 0 &&
           r.latency_p99_ms < args.hold_p99_ms && (!r.realtime_ratio || *r.realtime_ratio >= 0.98);
  };
  std::optional<unsigned> largest_holding;
  if (args.find_limit) {
    unsigned good = 0, bad = 0;  // 0: none seen
    for (const auto& r : results) {
      if (holds(r)) good = std::max(good, r.calls);
      else if (bad == 0 || r.calls < bad) bad = r.calls;
    }
    if (bad != 0 && bad <= good) bad = 0;  // a noisy level below one that held: search above the held one
    auto probe = [&](unsigned n) {
      std::printf("find-limit: trying %u calls (held: %u, failed: %s)\n", n, good,
                  bad ? std::to_string(bad).c_str() : "-");
      run_one(n);
      pause();
      if (holds(results.back())) good = std::max(good, n);
      else bad = n;
    };
    while (bad == 0 && good < args.max_calls) probe(std::min(args.max_calls, good ? good * 2 : 10));
    // Halve the gap until it is within ~5% (and 10 calls) of what held.
    while (bad != 0 && bad > good + std::max(10u, good / 20)) probe(good + (bad - good) / 2);
    if (good) largest_holding = good;
    std::sort(results.begin(), results.end(),
              [](const LevelResult& a, const LevelResult& b) { return a.calls < b.calls; });
  }
  if (spawned) stop_daemon(*spawned);
  // After the daemon, so that its plugin's sessions end with the daemon rather than being cut off by the fake.
  bool fake_openai_died = false;
  if (g_fake_openai) {
    const auto usage = concierge::bench::sample_process(g_fake_openai->pid());
    if (const auto ended = g_fake_openai->stop()) {
      fake_openai_died = true;
      std::fprintf(stderr, "concierge-bench: fake-openai-server exited during the run (%s); see %s\n", ended->c_str(),
                   g_fake_openai->log_path().c_str());
    }
    nlohmann::json fake{{"url", g_fake_openai->url()}, {"log", g_fake_openai->log_path()}};
    fake["cpu_seconds"] = usage ? nlohmann::json(usage->cpu_seconds) : nlohmann::json();
    fake["exited_during_run"] = fake_openai_died;
    report["fake_openai"] = fake;
    std::printf("fake-openai-server CPU over the run: %s s\n", usage ? fixed(usage->cpu_seconds, 2).c_str() : "-");
    // Its summary on SIGTERM: how many sessions the daemon's plugin opened and how much audio it sent.
    // ("fake-openai-server: ..." or "fake-live-server: ...": --fake-openai runs either fake.)
    if (const auto last = g_fake_openai->last_log_line();
        last.rfind("fake-", 0) == 0 && last.find("-server: ") != std::string::npos)
      std::printf("%s\n", last.c_str());
  }

  print_table(results);
  if (args.find_limit) {
    char line[200];
    std::snprintf(line, sizeof line,
                  "largest N that holds (all connected, none lost, round-trip p99 < %g ms, real time kept): %s\n",
                  args.hold_p99_ms, largest_holding ? std::to_string(*largest_holding).c_str() : "none");
    std::fputs(line, stdout);
    report["largest_holding"] = {{"calls", largest_holding ? nlohmann::json(*largest_holding) : nlohmann::json()},
                                 {"p99_under_ms", args.hold_p99_ms}};
  }
  report["levels"] = nlohmann::json::array();
  for (const auto& r : results) report["levels"].push_back(to_json(r));
  if (!args.json_path.empty()) {
    std::ofstream(args.json_path) << report.dump(2) << '\n';
    std::printf("results written to %s\n", args.json_path.c_str());
  }
  if (!args.plot_path.empty()) {
    if (plot(results, args.plot_path)) std::printf("plot written to %s\n", args.plot_path.c_str());
    else std::fprintf(stderr, "concierge-bench: gnuplot failed; the data is in %s.dat\n", args.plot_path.c_str());
  }

  if (args.smoke) {
    bool ok = !fake_openai_died;
    for (const auto& r : results) {
      // Every call connected, streamed to the end, and (nearly) every frame came back unaltered.
      const bool round_trip = r.frames_sent > 0 && r.frames_received * 100 >= r.frames_sent * 95;
      if (r.connected != r.calls || r.closed_early > 0 || r.frames_altered > 0 || !round_trip) ok = false;
    }
    std::printf("smoke: %s\n", ok ? "frames round-trip" : "FAILED: frames did not round-trip");
    return ok ? 0 : 1;
  }
  return 0;
}
