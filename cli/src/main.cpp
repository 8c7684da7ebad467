// concierge: the command-line client of concierge-host. See usage_text() in options.cpp.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <thread>

#include <curl/curl.h>

#include "app.hpp"
#include "curl_api.hpp"
#include "options.hpp"

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) { g_interrupted.store(true); }

// Without SA_RESTART a Ctrl-C also ends a blocking read of stdin, so the prompt does not wait for Enter.
void install_sigint_handler() {
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace concierge::cli;
  const std::vector<std::string> args(argv + 1, argv + argc);
  const ParsedArguments parsed = parse_arguments(args, environment_lookup());
  if (!parsed.options) {
    std::cerr << "concierge: " << parsed.error << "\nRun \"concierge --help\" for usage.\n";
    return kExitUsage;
  }
  Options options = *parsed.options;
  // The user's zone goes with each booking, so "tomorrow" means the user's tomorrow where the restaurant has no
  // zone of its own.
  options.time_zone = local_time_zone_name(environment_lookup());

  curl_global_init(CURL_GLOBAL_DEFAULT);
  install_sigint_handler();
  const auto request_timeout =
      std::chrono::milliseconds(options.timeout_seconds && *options.timeout_seconds < 15
                                    ? static_cast<long>(*options.timeout_seconds * 1000) + 1
                                    : 15000);
  int status = kExitUsage;
  {
    CurlApi api(options.server, options.token, request_timeout, &g_interrupted);
    Console console{std::cin, std::cout, std::cerr};
    console.interactive_input = ::isatty(STDIN_FILENO) == 1;
    console.interrupted = [] { return g_interrupted.load(); };
    // Sleeps in short slices so Ctrl-C is acted on at once.
    console.sleep = [](std::chrono::milliseconds total) {
      const auto until = std::chrono::steady_clock::now() + total;
      while (!g_interrupted.load() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    };
    status = run(options, api, console);
  }
  curl_global_cleanup();
  return status;
}
