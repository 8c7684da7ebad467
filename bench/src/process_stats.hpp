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
// The TCP port a process listens on (the lowest, if several); nullopt while it listens on none. Lets a daemon started
// with --port 0 pick its own free port, with no window in which another process can take a port chosen for it.
std::optional<unsigned short> port_listened_on_by(pid_t pid);

}  // namespace concierge::bench
