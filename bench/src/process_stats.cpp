#include "process_stats.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

namespace concierge::bench {

std::optional<ProcessSample> sample_process(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  ProcessSample sample;
  sample.cpu_seconds = double(utime + stime) / double(sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      sample.rss_bytes = std::strtod(line.c_str() + 6, nullptr) * 1024.0;  // "VmRSS:   12345 kB"
      break;
    }
  }
  return sample;
}

namespace {
// Listening sockets: inode -> port, from /proc/net/tcp and tcp6.
std::map<std::string, unsigned short> listening_sockets() {
  std::map<std::string, unsigned short> sockets;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
      if (state != "0A") continue;  // LISTEN
      const auto colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      sockets[inode] = static_cast<unsigned short>(std::stoul(local.substr(colon + 1), nullptr, 16));
    }
  }
  return sockets;
}
}  // namespace

std::optional<unsigned short> port_listened_on_by(pid_t pid) {
  const auto sockets = listening_sockets();
  std::optional<unsigned short> port;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code link_ec;
    const std::string target = std::filesystem::read_symlink(fd.path(), link_ec).string();
    if (link_ec || target.rfind("socket:[", 0) != 0) continue;
    const auto it = sockets.find(target.substr(8, target.size() - 9));
    if (it != sockets.end() && (!port || it->second < *port)) port = it->second;
  }
  return port;
}

std::optional<pid_t> pid_listening_on(unsigned short port) {
  std::set<std::string> inodes;
  for (const auto& [inode, listening_port] : listening_sockets())
    if (listening_port == port) inodes.insert(inode);
  if (inodes.empty()) return std::nullopt;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fd_ec;
    for (const auto& fd : std::filesystem::directory_iterator(entry.path() / "fd", fd_ec)) {
      std::error_code link_ec;
      const std::string target = std::filesystem::read_symlink(fd.path(), link_ec).string();
      if (link_ec || target.rfind("socket:[", 0) != 0) continue;
      if (inodes.count(target.substr(8, target.size() - 9))) return static_cast<pid_t>(std::stol(name));
    }
  }
  return std::nullopt;
}

}  // namespace concierge::bench
