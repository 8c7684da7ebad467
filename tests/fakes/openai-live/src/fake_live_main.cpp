// fake-live-server: the fake GPT-Live server as a process, for trying the daemon by hand or from scripts.
//   fake-live-server [--port N] [--api-key KEY] [--confirmation NUMBER] [--tls-dir DIR] [--echo]
// Prints its URL on the first line of stdout, plays the restaurant script to every connection, and runs until
// SIGINT/SIGTERM. --echo plays no script and sends every append's audio straight back (concierge-bench's
// openai-live mode, bench/bench-openai-live.yaml). With --tls-dir it serves wss:// with a fresh test CA written to
// DIR/ca.pem (use it as ca_file). The same command line as fake-openai-server, so concierge-bench --fake-openai runs
// either.
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "concierge_fakes/fake_live_server.hpp"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  using namespace concierge::fakes;
  live::FakeLiveOptions options;
  std::string confirmation = "4711";
  std::string tls_dir;
  bool echo = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--port" && has_value) options.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    else if (arg == "--api-key" && has_value) options.api_key = argv[++i];
    else if (arg == "--confirmation" && has_value) confirmation = argv[++i];
    else if (arg == "--tls-dir" && has_value) tls_dir = argv[++i];
    else if (arg == "--echo") echo = true;
    else {
      std::cerr << "usage: fake-live-server [--port N] [--api-key KEY] [--confirmation NUMBER] [--tls-dir DIR] [--echo]\n";
      return 2;
    }
  }
  if (!tls_dir.empty()) {
    options.tls = make_test_pki({"localhost"}, {"127.0.0.1"});
    std::ofstream(tls_dir + "/ca.pem") << options.tls->ca_pem;
  }
  if (echo) options.script.echo_audio = true;
  else options.script = live::restaurant_script(confirmation, {{"date", "2026-11-25"}, {"time", "19:00"}, {"party_size", 4}});
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  live::FakeLiveServer server(options);
  std::cout << server.url() << std::endl;
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::cerr << "fake-live-server: " << server.connections() << " sessions, " << server.audio_bytes_received()
            << " bytes of callee audio received\n";
  return 0;
}
