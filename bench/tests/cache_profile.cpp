// concierge-bench-cache-profile: the daemon's media path in one process (in_process_daemon.hpp: the server, twilio.so,
// CallBridge, echo-voice.so), N streams resampled in lockstep, each sending one frame per round and reading its
// answer. Not a timing: it is for cachegrind, whose counts do not depend on the machine's load. Two runs that
// differ only in rounds give the steady state per frame, by function:
//   valgrind --tool=cachegrind --cache-sim=yes --LL=2097152,16,64 --cachegrind-out-file=a concierge-bench-cache-profile 750 10
//   valgrind ... --cachegrind-out-file=b concierge-bench-cache-profile 750 30
//   cg_diff a b > d; cg_annotate --show=Ir,DLmr,DLmw --sort=DLmr,DLmw d    (divide by 750 x 20 frames)
// --LL=2097152,16,64 models this machine's 2 MiB L2 as the last level (its L3 holds everything). The generator's
// side runs in the same process here (its misses are counted too, under its own functions).
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "in_process_daemon.hpp"

int main(int argc, char** argv) {
  using namespace concierge::bench::in_process;
  const int streams = argc > 1 ? std::atoi(argv[1]) : 750;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 20;
  if (streams <= 0 || rounds <= 0) {
    std::fprintf(stderr, "usage: concierge-bench-cache-profile [STREAMS [ROUNDS]]\n");
    return 2;
  }
  Daemon daemon(AudioFormat::pcm16_at(24000), false, static_cast<std::size_t>(streams));
  std::vector<std::unique_ptr<TwilioClient>> clients;
  for (int i = 0; i < streams; ++i) clients.push_back(std::make_unique<TwilioClient>(daemon.port(), i));
  std::size_t bytes = 0;
  for (int k = 0; k < rounds; ++k) {
    for (auto& client : clients) client->send(static_cast<std::uint32_t>(k));
    for (auto& client : clients) bytes += client->receive();
  }
  std::printf("%d streams, %d rounds: %zu bytes back, %llu frames to the line\n", streams, rounds, bytes,
              static_cast<unsigned long long>(daemon.metrics().frames_to_line));
  std::fflush(stdout);
  std::_Exit(bytes > 0 ? 0 : 1);  // the daemon's teardown is not what this profiles
}
