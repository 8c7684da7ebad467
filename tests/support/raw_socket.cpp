#include "raw_socket.hpp"

#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace concierge::testing {
namespace {
using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// The length of a whole response at the start of `data` (headers plus Content-Length), or 0 when incomplete.
std::size_t whole_response_length(const std::string& data) {
  const auto end = data.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  std::size_t length = 0;
  std::string headers = data.substr(0, end);
  for (auto& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto at = headers.find("\r\ncontent-length:");
  if (at != std::string::npos) length = std::strtoul(headers.c_str() + at + 17, nullptr, 10);
  return data.size() >= end + 4 + length ? end + 4 + length : 0;
}
}  // namespace

RawConnection::RawConnection(int port, int receive_buffer_bytes) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (receive_buffer_bytes > 0)
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) close();
}

RawConnection::~RawConnection() { close(); }

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(other.fd_), pending_(std::move(other.pending_)) {
  other.fd_ = -1;
}

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::send_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string RawConnection::read_until(std::string_view until, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string data = std::move(pending_);
  pending_.clear();
  char buffer[16384];
  while (data.find(until) == std::string::npos) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) break;
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  return data;
}

std::string RawConnection::read_http_response(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string data = std::move(pending_);
  pending_.clear();
  char buffer[65536];
  for (;;) {
    if (const std::size_t length = whole_response_length(data)) {
      pending_ = data.substr(length);
      data.resize(length);
      return data;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return "";
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return "";
    data.append(buffer, static_cast<std::size_t>(n));
  }
}

bool RawConnection::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buffer[65536];
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return true;
  }
}

std::string http_get_request(std::string_view path, std::string_view extra_headers) {
  // The test daemons' API token, as http_request sends it, unless the caller brings an Authorization line.
  const bool has_authorization = extra_headers.find("Authorization:") != std::string_view::npos;
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         (has_authorization ? std::string() : std::string("Authorization: Bearer ") + kTestApiToken + "\r\n") +
         std::string(extra_headers) + "\r\n";
}

CannedHttpServer::CannedHttpServer(int status, std::string body, std::string content_type,
                                   std::chrono::milliseconds delay)
    : status_(status), body_(std::move(body)), content_type_(std::move(content_type)), delay_(delay) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::listen(listen_fd_, 64);
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

CannedHttpServer::~CannedHttpServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  thread_.join();
  ::close(listen_fd_);
}

std::vector<std::string> CannedHttpServer::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

void CannedHttpServer::serve() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    // Read the request's headers and its Content-Length body, then answer and close.
    std::string request;
    char buffer[8192];
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    for (;;) {
      const auto end = request.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string headers = request.substr(0, end);
        for (auto& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto at = headers.find("\r\ncontent-length:");
        const std::size_t length = at == std::string::npos ? 0 : std::strtoul(headers.c_str() + at + 17, nullptr, 10);
        if (request.size() >= end + 4 + length) break;
      }
      pollfd c{fd, POLLIN, 0};
      if (::poll(&c, 1, remaining_ms(deadline)) <= 0) break;
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      request.append(buffer, static_cast<std::size_t>(n));
    }
    {
      std::lock_guard lock(mutex_);
      received_.push_back(request);
    }
    ++requests_;
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    const std::string response = "HTTP/1.1 " + std::to_string(status_) + " Canned\r\nContent-Type: " + content_type_ +
                                 "\r\nContent-Length: " + std::to_string(body_.size()) +
                                 "\r\nConnection: close\r\n\r\n" + body_;
    std::string_view rest = response;
    while (!rest.empty()) {
      const ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    ::close(fd);
  }
}

}  // namespace concierge::testing
