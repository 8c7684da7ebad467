#pragma once
// Plain TCP for tests that must misbehave the way a bad network or an attacker does (send and never read, hold
// connections open, hang up mid-answer), which an HTTP library will not do, and a loopback HTTP responder that
// answers every request with one canned response (a provider that sends back whatever bytes a test needs).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace concierge::testing {

// A connected TCP socket to 127.0.0.1:port (closed on destruction); fd() < 0 when the connection failed.
class RawConnection {
 public:
  explicit RawConnection(int port, int receive_buffer_bytes = 0);  // 0: the system's default buffer
  ~RawConnection();
  RawConnection(RawConnection&& other) noexcept;
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  int fd() const { return fd_; }
  bool connected() const { return fd_ >= 0; }
  bool send_all(std::string_view bytes);
  // Reads what arrives until `until` is in it, the peer closes, or the timeout passes; returns everything read.
  std::string read_until(std::string_view until, std::chrono::milliseconds timeout);
  // One whole HTTP/1.1 response (headers and a Content-Length body); "" on timeout or close before it was whole.
  std::string read_http_response(std::chrono::milliseconds timeout);
  // Whether the peer has closed the connection (reads to EOF or error within the timeout, discarding data).
  bool closed_by_peer(std::chrono::milliseconds timeout);
  void close();

 private:
  int fd_ = -1;
  std::string pending_;  // read past the end of the last response
};

// GET `path` as a raw request (optionally with extra header lines, each ending in \r\n), with the test daemons'
// API token unless the extra lines carry an Authorization header.
std::string http_get_request(std::string_view path, std::string_view extra_headers = "");

// Answers every HTTP request on 127.0.0.1:<port()> with `status` and `body` (Content-Type application/json unless
// told otherwise), on its own thread, until destroyed; counts the requests.
class CannedHttpServer {
 public:
  // `delay`: how long to wait before answering each request (a slow provider).
  CannedHttpServer(int status, std::string body, std::string content_type = "application/json",
                   std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  ~CannedHttpServer();
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }
  // Every request received so far, whole (request line, headers, body).
  std::vector<std::string> received() const;

 private:
  void serve();
  int listen_fd_ = -1;
  int port_ = 0;
  int status_;
  std::string body_, content_type_;
  std::chrono::milliseconds delay_;
  mutable std::mutex mutex_;
  std::vector<std::string> received_;
  std::atomic<int> requests_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace concierge::testing
