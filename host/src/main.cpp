// concierge-host: loads the configured plugins and bridges them, serving the HTTP API and the media streams.
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "api_auth.hpp"
#include "call_manager.hpp"
#include "call_store.hpp"
#include "concierge/net/asio.hpp"
#include "env.hpp"
#include "host_config.hpp"
#include "http_api.hpp"
#include "http_server.hpp"
#include "logging.hpp"
#include "plugin_loader.hpp"

namespace asio = boost::asio;
using namespace concierge;
using namespace concierge::host;

namespace {

constexpr const char* kUsage = R"(Usage: concierge-host [options]

Runs the concierge daemon: loads the telephony, voice-model and agent plugins named in the config and serves
the HTTP API the `concierge` CLI talks to.

Options:
  --config FILE      YAML config (default: the built-in demo config: simulated restaurant, no keys, no network)
  --env-file FILE    read variables from FILE instead of ./.env
  --host ADDRESS     override server.host
  --port N           override server.port (0 picks a free port; the chosen one is logged)
  --plugin-dir DIR   override plugin_dir (repeat it for several folders, searched in order)
  --log-level LEVEL  DEBUG, INFO, WARNING or ERROR (overrides LOG_LEVEL)
  --check-config     load the config and the plugins, report, and exit
  --list-plugins     list every .so in the plugin folders (kind, name, version, SDK version, file, or why it is
                     refused) and exit: 0 when all are usable plugins, 1 when any is refused
  --version          print the version
  --help             this text
)";

class DaemonServices final : public HostServices {
 public:
  DaemonServices(asio::io_context& io, std::string public_domain)
      : io_(io), pool_(2), public_domain_(std::move(public_domain)), http_(make_http_client(io)) {}
  asio::io_context& io() override { return io_; }
  // One client for every plugin: its requests share connections and run concurrently on the loop. Destroyed with
  // the services, after every plugin object and before main() unloads the libraries its completions came from.
  HttpClient& http() override { return *http_; }
  void run_blocking(std::function<void()> work) override { asio::post(pool_, std::move(work)); }
  std::string public_domain() const override { return public_domain_; }
  std::shared_ptr<CallEvents> accept_inbound_call(const InboundCall& call) override {
    return calls ? calls->accept_inbound(call) : nullptr;
  }
  void join() { pool_.join(); }
  CallManager* calls = nullptr;

 private:
  asio::io_context& io_;
  asio::thread_pool pool_;
  std::string public_domain_;
  std::unique_ptr<HttpClient> http_;
};

struct Options {
  std::optional<std::filesystem::path> config;
  std::optional<std::filesystem::path> env_file;
  std::optional<std::string> host;
  std::optional<int> port;
  std::vector<std::filesystem::path> plugin_dirs;  // empty = the config's plugin_dir
  std::optional<std::string> log_level;
  bool check_only = false;
  bool list_plugins = false;
};

// Returns the options, or nullopt with exit_code set: 0 after --help/--version, 2 after a usage error.
std::optional<Options> parse_args(int argc, char** argv, int& exit_code) {
  Options o;
  auto usage_error = [&](const std::string& message) -> std::optional<Options> {
    std::cerr << "concierge-host: " << message << " (see --help)\n";
    exit_code = 2;
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      exit_code = 0;
      return std::nullopt;
    }
    if (a == "--version") {
      std::cout << "concierge-host " << CONCIERGE_VERSION << " (SDK " << kSdkVersionMajor << "." << kSdkVersionMinor
                << ")\n";
      exit_code = 0;
      return std::nullopt;
    }
    if (a == "--check-config") {
      o.check_only = true;
      continue;
    }
    if (a == "--list-plugins") {
      o.list_plugins = true;
      continue;
    }
    static const char* const kWithValue[] = {"--config", "-c", "--env-file", "--host", "--port", "--plugin-dir",
                                             "--log-level"};
    if (std::find(std::begin(kWithValue), std::end(kWithValue), a) == std::end(kWithValue))
      return usage_error("unknown option " + a);
    if (i + 1 >= argc) return usage_error(a + " needs a value");
    const std::string v = argv[++i];
    if (a == "--config" || a == "-c") o.config = v;
    else if (a == "--env-file") o.env_file = v;
    else if (a == "--host") o.host = v;
    else if (a == "--plugin-dir") o.plugin_dirs.push_back(v);
    else if (a == "--log-level") o.log_level = v;
    else if (a == "--port") {
      char* end = nullptr;
      const long port = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || port < 0 || port > 65535)
        return usage_error("--port takes a number from 0 to 65535, not \"" + v + "\"");
      o.port = static_cast<int>(port);
    }
  }
  return o;
}

// A loaded plugin's library, held until the daemon has destroyed everything the plugin's code made.
struct PluginLibrary {
  std::string name;
  std::filesystem::path file;
  std::shared_ptr<const void> handle;
};
using PluginLibraries = std::vector<PluginLibrary>;

// Loads the plugins and serves until SIGINT/SIGTERM; returns the exit status. Every library a plugin came from is
// added to `libraries`, which the caller releases only after this returns: by then the event loop, its services and
// handlers, the thread pool and every plugin object are gone.
int serve(const HostConfig& config, const Options& options, const std::shared_ptr<Logger>& log,
          const SecretMask& secrets, PluginLibraries& libraries) {
  asio::io_context io(1);
  DaemonServices services(io, config.public_domain);
  HostMetrics metrics;
  int result = 0;
  {
    // Plugins, then everything that holds their objects; destroyed in reverse, then the event loop, and only then
    // (in main) the libraries.
    LoadedPlugin telephony, voice, agent;
    try {
      const std::filesystem::path config_dir =
          config.file.has_parent_path() ? config.file.parent_path() : std::filesystem::current_path();
      LoadedPlugins loaded = load_configured_plugins(
          config,
          [&](const std::string& name) {
            return PluginContext{services, make_logger(name, config.log_level), config_dir};
          },
          [&](const LoadedPlugin& plugin) {
            libraries.push_back({plugin.name, plugin.file, plugin.library});
            const std::string boundary =
                plugin.c_abi ? "C ABI " + std::to_string(plugin.c_abi_major) + "." + std::to_string(plugin.c_abi_minor)
                             : "SDK " + std::to_string(plugin.sdk_major) + "." + std::to_string(plugin.sdk_minor);
            log->info("Loaded " + std::string(to_string(plugin.kind)) + " plugin " + plugin.name + " " +
                      plugin.version + " (" + boundary + ") from " + plugin.file.string());
          });
      telephony = std::move(loaded.telephony);
      voice = std::move(loaded.voice_model);
      agent = std::move(loaded.agent);
    } catch (const std::exception& e) {
      log->error(e.what());
      std::cerr << "concierge-host: " << e.what() << "\n";
      services.join();
      return 3;
    }
    if (options.check_only) {
      log->info("Config and plugins are fine.");
      services.join();
      return 0;
    }

    std::unique_ptr<CallStore> store;
    try {
      store = config.database.empty() ? make_memory_call_store() : make_sqlite_call_store(config.database);
    } catch (const std::exception& e) {
      std::cerr << "concierge-host: " << e.what() << "\n";
      services.join();
      return 2;
    }
    log->info("Call records: " + store->describe());

    CallServices call_services{.io = io,
                               .telephony = telephony.instance.telephony,
                               .telephony_checks_destinations = telephony.has_sdk_minor(1),
                               .voice_model = voice.instance.voice_model,
                               .log = log,
                               .metrics = metrics,
                               .time_limit = config.call_time_limit,
                               .ring_timeout = std::chrono::seconds(30),
                               .secrets = secrets,
                               .record_changed = {},
                               .finished = {},
                               .agent_has_line_events = agent.has_sdk_minor(5),
                               .voice_has_line_events = voice.has_sdk_minor(5),
                               .beep_detection_always = config.beep_detection_always};
    CallManager calls(call_services, agent.instance.agent, std::move(store),
                      CallLimits{config.max_concurrent_calls, config.history_limit, config.accept_inbound_calls,
                                         config.limits_per_token});
    if (calls.recovered_interrupted())
      log->warning(std::to_string(calls.recovered_interrupted()) +
                   " call(s) were still running when the daemon last stopped; marked failed");
    services.calls = &calls;
    // The control API's token: the configured one, or a fresh one per start whose file is written once the port
    // is known (the file is named after it).
    const bool token_generated = config.api_token.empty();
    std::string api_token = config.api_token;
    std::filesystem::path token_file = config.api_token_file;
    if (token_generated) {
      try {
        api_token = generate_api_token();
      } catch (const std::exception& e) {
        log->error(e.what());
        std::cerr << "concierge-host: " << e.what() << "\n";
        services.join();
        return 2;
      }
    }
    HttpApi api(calls, telephony.instance.telephony, ApiAuth(api_token), config.metrics_public);
    api.set_listing_budget(config.listing_entries_per_second, config.listing_entries_per_second_total);
    auto telephony_provider = telephony.instance.telephony;

    // One listener, or two faces (server.public_port): the control API on one, the provider's public routes on the
    // other (HttpApi::Face).
    const bool split = config.public_port.has_value();
    auto handlers_for = [&](HttpApi::Face face) {
      HttpServer::Handlers handlers;
      handlers.http = [&api, face](const HttpRequest& request) { return api.handle(request, face); };
      handlers.check_upgrade = [telephony_provider, &metrics,
                                face](const HttpRequest& request) -> std::optional<HttpResponse> {
        if (auto refusal = HttpApi::refuse_upgrade(request, face)) return refusal;
        // Overloaded: a media stream that would start a new (inbound) call is refused before it costs anything.
        // While outbound calls wait for their streams the upgrade goes ahead (it may be one of them); an inbound
        // call on it is then refused at its start message.
        if (metrics.overload.overloaded && metrics.calls_awaiting_media <= 0) {
          ++metrics.calls_refused_overload;
          return HttpResponse::json_error(503, "the daemon is overloaded (its event loop is running behind or too "
                                               "busy); new calls are refused until it catches up");
        }
        return telephony_provider->check_media_stream_upgrade(request);
      };
      handlers.open_websocket = [telephony_provider](std::shared_ptr<WebSocketPeer> peer) {
        return telephony_provider->open_media_stream(std::move(peer));
      };
      return handlers;
    };
    HttpServerLimits limits;
    limits.max_message_bytes = config.max_message_bytes;
    limits.max_connections = config.max_connections;
    limits.max_connections_per_client = config.max_connections_per_client;
    limits.idle_timeout = config.idle_timeout;
    limits.trusted_proxies = config.trusted_proxies;
    HttpServer server(io, make_logger("http", config.log_level),
                      handlers_for(split ? HttpApi::Face::control : HttpApi::Face::both), limits);
    std::optional<HttpServer> public_server;
    if (split) public_server.emplace(io, make_logger("http", config.log_level), handlers_for(HttpApi::Face::public_),
                                     limits);
    try {
      auto shown = [](const std::string& host) { return host == "0.0.0.0" ? std::string("127.0.0.1") : host; };
      const auto port = server.listen(config.server_host, config.server_port);
      log->info("Listening on http://" + shown(config.server_host) + ":" + std::to_string(port) +
                (split ? " (the control API; the telephony routes are on the public listener only)" : ""));
      if (public_server) {
        const std::string public_host = config.public_host.empty() ? config.server_host : config.public_host;
        const auto public_port = public_server->listen(public_host, *config.public_port);
        std::string routes;
        for (const auto& route : telephony_provider->http_routes()) routes += route + ", ";
        log->info("Public listener on http://" + shown(public_host) + ":" + std::to_string(public_port) + " (" +
                  routes + "/media-stream and /health only; point the tunnel here)");
      }
      if (token_generated) {
        if (token_file.empty()) {
          const auto file = default_api_token_file(Environment::from_process(), port);
          if (!file)
            throw std::runtime_error("no place for the generated API token: neither XDG_RUNTIME_DIR nor HOME is set; "
                                     "set CONCIERGE_API_TOKEN or CONCIERGE_API_TOKEN_FILE");
          token_file = *file;
        }
        write_api_token_file(token_file, api_token);
        log->info("API token: generated for this run, in " + token_file.string() +
                  " (mode 0600; the concierge CLI reads it; set CONCIERGE_API_TOKEN to choose your own)");
      } else {
        log->info("API token: from the configuration (CONCIERGE_API_TOKEN)");
      }
      if (config.metrics_public) log->info("GET /metrics is served without the token (server.metrics_public)");
    } catch (const std::exception& e) {
      log->error(e.what());
      std::cerr << "concierge-host: " << e.what() << "\n";
      result = 4;
    }

    if (result == 0) {
      // The event loop's lag: a 10 ms timer's lateness is how long any frame waits behind the loop's other work.
      // Over server.overload_lag_ms the daemon refuses new calls (see OverloadState) and says so in /metrics.
      metrics.overload.threshold_ms = config.overload_lag_ms;
      metrics.overload.busy_threshold = config.overload_busy_ratio;
      // The timer's handler runs on the loop's thread, so that thread's CPU clock is the loop's working time.
      auto thread_cpu_seconds = [] {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
      };
      double last_cpu = thread_cpu_seconds();
      // How long the loop's thread waited for a CPU while it was runnable (the kernel's schedstat run_delay, in
      // ns): lag that is the machine's, not the loop's own work. Opened on the loop's thread (thread-self).
      const int schedstat = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
      auto run_delay_ns = [schedstat]() -> std::uint64_t {
        char text[96];
        const ssize_t n = schedstat < 0 ? -1 : ::pread(schedstat, text, sizeof text - 1, 0);
        if (n <= 0) return 0;
        text[n] = 0;
        unsigned long long on_cpu = 0, waited = 0;
        return std::sscanf(text, "%llu %llu", &on_cpu, &waited) == 2 ? waited : 0;
      };
      const std::uint64_t first_run_delay = run_delay_ns();
      auto last_tick = std::chrono::steady_clock::now();
      asio::steady_timer lag_timer(io);
      constexpr auto kLagPeriod = std::chrono::milliseconds(10);
      std::function<void()> arm_lag_timer = [&] {
        lag_timer.async_wait([&](const boost::system::error_code& ec) {
          if (ec) return;
          const auto now = std::chrono::steady_clock::now();
          const double lag_ms = std::chrono::duration<double, std::milli>(now - lag_timer.expiry()).count();
          metrics.loop_lag_ms.observe(lag_ms);
          if (schedstat >= 0) metrics.loop_run_delay_seconds = double(run_delay_ns() - first_run_delay) * 1e-9;
          metrics.connections_open =
              server.open_connections() + (public_server ? public_server->open_connections() : 0);
          metrics.connections_refused =
              server.refused_connections() + (public_server ? public_server->refused_connections() : 0);
          const double cpu = thread_cpu_seconds();
          metrics.overload.note_busy(cpu - last_cpu, std::chrono::duration<double>(now - last_tick).count());
          last_cpu = cpu;
          last_tick = now;
          if (metrics.overload.observe(lag_ms, now)) {
            if (metrics.overload.overloaded) {
              char text[200];
              std::snprintf(text, sizeof text,
                            "Overloaded: the event loop is %.3g ms behind (limit %g ms) and %.0f%% busy (limit %.0f%%); "
                            "refusing new calls, %zu carry on",
                            lag_ms, config.overload_lag_ms, 100 * metrics.overload.busy,
                            100 * config.overload_busy_ratio, calls.active_calls());
              log->warning(text);
            } else {
              log->warning("No longer overloaded: accepting new calls again");
            }
          }
          // The next tick on the 10 ms grid, or a period from now after a stall (no burst of catch-up ticks).
          lag_timer.expires_at(std::max(lag_timer.expiry() + kLagPeriod, now + kLagPeriod / 2));
          arm_lag_timer();
        });
      };
      lag_timer.expires_after(kLagPeriod);
      arm_lag_timer();
      asio::signal_set signals(io, SIGINT, SIGTERM);
      asio::steady_timer stop_timer(io);
      signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        log->info(std::string("Shutting down (") + (signal == SIGINT ? "SIGINT" : "SIGTERM") + ")");
        server.stop();
        if (public_server) public_server->stop();
        lag_timer.cancel();
        calls.shutdown("the daemon is shutting down");
        // Give hang-ups a moment to reach the providers, then stop.
        stop_timer.expires_after(std::chrono::milliseconds(300));
        stop_timer.async_wait([&](const boost::system::error_code&) { io.stop(); });
      });
      log->info("Application startup complete.");
      // A plugin's exception escaping a handler must not take every other call down with it: log it and go on.
      for (;;) {
        try {
          io.run();
          break;
        } catch (const std::exception& e) {
          ++metrics.errors;
          log->error(std::string("unhandled error in the event loop (the daemon carries on): ") + e.what());
        }
      }
      log->info("Stopped.");
      if (schedstat >= 0) ::close(schedstat);
    }
    services.calls = nullptr;
    server.stop();
    if (public_server) public_server->stop();
    if (token_generated && !token_file.empty()) remove_api_token_file(token_file, api_token);
    services.join();
    io.restart();
    io.poll();
  }
  return result;
}

// Drops the last references to the plugins' libraries, so dlclose unmaps them, and says at DEBUG whether each one is
// gone. A library GCC built with STB_GNU_UNIQUE symbols stays mapped for the process's life whatever we do; one built
// with clang or -fno-gnu-unique is really unloaded.
void unload_plugins(PluginLibraries& libraries, Logger& log) {
  for (auto& library : libraries) {
    library.handle.reset();
    void* still = dlopen(library.file.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (still) dlclose(still);
    log.debug("Plugin " + library.name + (still ? " stays mapped (its library has unique symbols)" : " unloaded"));
  }
  libraries.clear();
}

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 2;
  const auto parsed = parse_args(argc, argv, exit_code);
  if (!parsed) return exit_code;
  const Options& options = *parsed;

  HostConfig config;
  try {
    const Environment env = Environment::for_daemon(options.env_file);
    config = options.config ? load_host_config(*options.config, env)
                            : parse_host_config(embedded_default_config(), std::string(embedded_default_config_name),
                                                env);
  } catch (const std::exception& e) {
    std::cerr << "concierge-host: " << e.what() << "\n";
    return 2;
  }
  if (options.host) config.server_host = *options.host;
  if (options.port) config.server_port = static_cast<std::uint16_t>(*options.port);
  if (!options.plugin_dirs.empty()) config.plugin_dirs = options.plugin_dirs;
  if (options.list_plugins) {
    const auto listing = PluginLoader(config.plugin_dirs).list();
    std::cout << format_plugin_listing(listing);
    const bool any_refused =
        std::any_of(listing.begin(), listing.end(), [](const PluginListing& entry) { return !entry.plugin; });
    return any_refused ? 1 : 0;
  }
  if (options.log_level) {
    auto level = parse_log_level(*options.log_level);
    if (!level) {
      std::cerr << "concierge-host: --log-level takes DEBUG, INFO, WARNING or ERROR, not \"" << *options.log_level
                << "\"\n";
      return 2;
    }
    config.log_level = *level;
  }

  SecretMask secrets;
  for (const auto& secret : config.secrets) secrets.add(secret);
  if (!config.api_token.empty()) secrets.add(config.api_token);  // the control API's credential, never logged
  set_log_secrets(secrets);
  auto log = make_logger("host", config.log_level);
  for (const auto& warning : config.warnings) log->warning(warning);
  if (config.nice != 0) {
    // Before any thread starts: Linux keeps a niceness per thread and new threads inherit their creator's. A media
    // daemon's audio is due every 20 ms; on a shared box a higher priority keeps batch work from delaying it
    // (measured: 1,000 resampled calls beside the load generator, p99 4.4-10.4 ms at 0, 1.5-3.3 ms at -10).
    errno = 0;
    const int before = getpriority(PRIO_PROCESS, 0);
    if (setpriority(PRIO_PROCESS, 0, config.nice) != 0)
      log->warning("server.nice " + std::to_string(config.nice) + " not applied (" + std::strerror(errno) +
                   "; below 0 needs root or CAP_SYS_NICE); running at nice " + std::to_string(before));
    else
      log->info("Running at nice " + std::to_string(config.nice));
  }
  {
    // Every call holds a few descriptors (its media stream, the voice model's socket): take all the descriptors the
    // system allows (the soft limit is often 1024, the hard one far higher). Running out anyway is handled by the
    // server (it sheds a connection and backs off), not by spinning.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
      const rlim_t before = files.rlim_cur;
      files.rlim_cur = files.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &files) == 0)
        log->info("Open file limit raised from " + std::to_string(before) + " to " + std::to_string(files.rlim_cur));
    }
  }
  log->info("Starting AI Concierge Voice Server on " + config.server_host + ":" + std::to_string(config.server_port));
  log->info("Config: " + config.file.string());
  log->info("Public domain: " + (config.public_domain.empty() ? std::string("NOT CONFIGURED") : config.public_domain));

  // Each plugin's library outlives the event loop and everything else serve() made: the io_context's services (a
  // timer service, say) may have been created by a plugin's code and still call into it while they shut down.
  PluginLibraries libraries;
  const int result = serve(config, options, log, secrets, libraries);
  unload_plugins(libraries, *log);
  return result;
}
