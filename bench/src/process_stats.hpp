#pragma once
// What the daemon costs, read from /proc: CPU time (utime + stime of /proc/<pid>/stat) and resident memory (VmRSS of
// /proc/<pid>/status); and which process listens on a TCP port (/proc/net/tcp{,6} -> socket inode -> /proc/*/fd).
#include <optional>
#include <sys/types.h>

namespace concierge::bench {

struct ProcessSample {
  double cpu_seconds = 0;  // user + system, all threads
  double rss_bytes = 0;
};

std::optional<ProcessSample> sample_process(pid_t pid);
std::optional<pid_t> pid_listening_on(unsigned short port);

}  // namespace concierge::bench
