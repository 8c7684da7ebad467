// The SDK's HttpClient (libcurl multi on an Asio loop) against loopback HTTP responders over real sockets, plain
// and TLS (a throw-away CA made at test time: tests/fakes/ws-server's test PKI).
#include <csignal>

#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "concierge/base64.hpp"
#include "concierge/http_client.hpp"
#include "concierge_fakes/test_pki.hpp"
#include "raw_socket.hpp"

namespace concierge {
namespace {
using namespace std::chrono_literals;
using testing::CannedHttpServer;
using Clock = std::chrono::steady_clock;

// An HTTPS responder on 127.0.0.1 with a certificate of the test PKI: OpenSSL on a thread, one connection at a
// time, each request answered 200 with `body`. Records the request lines it read.
class TlsHttpServer {
 public:
  TlsHttpServer(const fakes::TestPki& pki, std::string body) : body_(std::move(body)) {
    context_ = SSL_CTX_new(TLS_server_method());
    BIO* cert = BIO_new_mem_buf(pki.server_cert_pem.data(), static_cast<int>(pki.server_cert_pem.size()));
    BIO* key = BIO_new_mem_buf(pki.server_key_pem.data(), static_cast<int>(pki.server_key_pem.size()));
    X509* x509 = PEM_read_bio_X509(cert, nullptr, nullptr, nullptr);
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key, nullptr, nullptr, nullptr);
    SSL_CTX_use_certificate(context_, x509);
    SSL_CTX_use_PrivateKey(context_, pkey);
    X509_free(x509);
    EVP_PKEY_free(pkey);
    BIO_free(cert);
    BIO_free(key);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listen_fd_, 16);
    socklen_t size = sizeof address;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    // OpenSSL writes with write(2): a write to a socket the client already closed would raise SIGPIPE and kill the
    // test binary (the daemon's own sockets go through Asio and libcurl, which never raise it).
    std::signal(SIGPIPE, SIG_IGN);
    thread_ = std::thread([this] { serve(); });
  }
  ~TlsHttpServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
    SSL_CTX_free(context_);
  }
  int port() const { return port_; }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  // Handshakes that failed (the client refused the certificate).
  int failed_handshakes() const { return failed_handshakes_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      timeval limit{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
      SSL* ssl = SSL_new(context_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) {
        std::string request;
        char chunk[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
          const int n = SSL_read(ssl, chunk, sizeof chunk);
          if (n <= 0) break;
          request.append(chunk, static_cast<std::size_t>(n));
        }
        // (With TLS 1.3 the handshake ends here before the client has judged the certificate: a client that
        // refuses it sends an alert instead of a request.)
        if (!request.empty()) {
          std::lock_guard lock(mutex_);
          requests_.push_back(request.substr(0, request.find("\r\n")));
        }
        // Answer only a request: a client that refused the certificate has closed (or is closing) the socket.
        if (!request.empty()) {
          const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                       std::to_string(body_.size()) + "\r\nConnection: close\r\n\r\n" + body_;
          SSL_write(ssl, response.data(), static_cast<int>(response.size()));
          SSL_shutdown(ssl);
        }
      } else {
        ++failed_handshakes_;
        ERR_clear_error();
      }
      SSL_free(ssl);
      ::close(fd);
    }
  }

  std::string body_;
  SSL_CTX* context_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> failed_handshakes_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

class HttpClientTest : public ::testing::Test {
 protected:
  // Runs the loop until `response` is set or `limit` passes.
  bool run_until(const std::optional<HttpClientResponse>& response, std::chrono::milliseconds limit = 5000ms) {
    const auto deadline = Clock::now() + limit;
    while (!response && Clock::now() < deadline) {
      io.restart();
      io.run_for(10ms);
    }
    return response.has_value();
  }
  HttpClientRequest get(const std::string& url) {
    HttpClientRequest request;
    request.url = url;
    request.timeout = 5000ms;
    return request;
  }

  boost::asio::io_context io;
  std::unique_ptr<HttpClient> client = make_http_client(io);
};

TEST_F(HttpClientTest, GetAnswersOnTheLoopAfterStartReturned) {
  CannedHttpServer server(200, R"({"ok":true})");
  std::optional<HttpClientResponse> response;
  client->start(get(server.base_url() + "/things?x=1"), [&](const HttpClientResponse& r) { response = r; });
  EXPECT_FALSE(response);  // never inside start()
  EXPECT_EQ(client->in_flight(), 1u);
  ASSERT_TRUE(run_until(response));
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"ok":true})");
  EXPECT_EQ(response->content_type, "application/json");
  EXPECT_TRUE(response->error.empty());
  EXPECT_EQ(client->in_flight(), 0u);
  ASSERT_EQ(server.received().size(), 1u);
  EXPECT_EQ(server.received()[0].rfind("GET /things?x=1 HTTP/1.1\r\n", 0), 0u);
}

TEST_F(HttpClientTest, PostSendsItsBodyHeadersAndBasicAuth) {
  CannedHttpServer server(201, R"({"sid":"CA1"})");
  HttpClientRequest request = get(server.base_url() + "/Calls.json");
  request.method = "POST";
  request.body = "To=%2B15551234567&From=%2B15005550006";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Test", "yes"}};
  request.username = "AC123";
  request.password = "secret-token";
  std::optional<HttpClientResponse> response;
  client->start(request, [&](const HttpClientResponse& r) { response = r; });
  ASSERT_TRUE(run_until(response));
  EXPECT_EQ(response->status, 201);
  const std::string received = server.received().at(0);
  EXPECT_EQ(received.rfind("POST /Calls.json HTTP/1.1\r\n", 0), 0u);
  const std::string credentials = "AC123:secret-token";
  EXPECT_NE(received.find("Authorization: Basic " +
                          base64::encode(std::span<const std::uint8_t>(
                              reinterpret_cast<const std::uint8_t*>(credentials.data()), credentials.size()))),
            std::string::npos);
  EXPECT_NE(received.find("X-Test: yes\r\n"), std::string::npos);
  EXPECT_NE(received.find("\r\n\r\n" + request.body), std::string::npos);
}

TEST_F(HttpClientTest, ErrorStatusesAreResponsesNotErrors) {
  CannedHttpServer server(404, R"({"code":20404})");
  std::optional<HttpClientResponse> response;
  client->start(get(server.base_url() + "/x"), [&](const HttpClientResponse& r) { response = r; });
  ASSERT_TRUE(run_until(response));
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, R"({"code":20404})");
  EXPECT_TRUE(response->error.empty());
}

TEST_F(HttpClientTest, ARequestPastItsTimeoutEndsTimedOut) {
  CannedHttpServer server(200, "{}", "application/json", 3000ms);  // answers long after the timeout, even on a loaded machine
  HttpClientRequest request = get(server.base_url() + "/slow");
  request.timeout = 150ms;
  const auto started = Clock::now();
  std::optional<HttpClientResponse> response;
  client->start(request, [&](const HttpClientResponse& r) { response = r; });
  ASSERT_TRUE(run_until(response));
  const auto took = Clock::now() - started;
  EXPECT_TRUE(response->timed_out);
  EXPECT_EQ(response->status, 0);
  EXPECT_FALSE(response->error.empty());
  EXPECT_GE(took, 150ms);  // never early
  EXPECT_LT(took, 2500ms);  // and not waiting for the answer
}

TEST_F(HttpClientTest, AResponseLargerThanTheLimitIsAnErrorNotABuffer) {
  CannedHttpServer server(200, std::string(10000, 'x'), "text/plain");
  HttpClientRequest request = get(server.base_url() + "/big");
  request.max_response_bytes = 1024;
  std::optional<HttpClientResponse> response;
  client->start(request, [&](const HttpClientResponse& r) { response = r; });
  ASSERT_TRUE(run_until(response));
  EXPECT_EQ(response->status, 0);
  EXPECT_EQ(response->error, "the response was larger than 1024 bytes");
  EXPECT_TRUE(response->body.empty());
}

TEST_F(HttpClientTest, NobodyListeningIsAnErrorInWords) {
  int port = 0;
  {
    CannedHttpServer gone(200, "{}");
    port = gone.port();
  }
  std::optional<HttpClientResponse> response;
  client->start(get("http://127.0.0.1:" + std::to_string(port) + "/"), [&](const HttpClientResponse& r) { response = r; });
  ASSERT_TRUE(run_until(response));
  EXPECT_EQ(response->status, 0);
  EXPECT_FALSE(response->timed_out);
  EXPECT_FALSE(response->error.empty());
}

TEST_F(HttpClientTest, ARequestThatCannotStartIsReportedOnTheLoop) {
  std::optional<HttpClientResponse> response;
  client->start(get("ftp://127.0.0.1/file"), [&](const HttpClientResponse& r) { response = r; });
  EXPECT_FALSE(response);
  ASSERT_TRUE(run_until(response));
  EXPECT_NE(response->error.find("not an http:// or https:// URL"), std::string::npos);
  HttpClientRequest bad = get("http://127.0.0.1/");
  bad.method = "BREW";
  response.reset();
  client->start(bad, [&](const HttpClientResponse& r) { response = r; });
  ASSERT_TRUE(run_until(response));
  EXPECT_NE(response->error.find("unsupported HTTP method"), std::string::npos);
}

TEST_F(HttpClientTest, ACancelledRequestNeverCompletes) {
  CannedHttpServer server(200, "{}", "application/json", 300ms);
  bool called = false;
  const auto id = client->start(get(server.base_url() + "/"), [&](const HttpClientResponse&) { called = true; });
  io.run_for(50ms);
  client->cancel(id);
  EXPECT_EQ(client->in_flight(), 0u);
  client->cancel(id);  // again: ignored
  io.restart();
  io.run_for(500ms);
  EXPECT_FALSE(called);
}

TEST_F(HttpClientTest, ASlowRequestDelaysNoOther) {
  CannedHttpServer slow(200, "slow", "text/plain", 600ms);
  CannedHttpServer fast(200, "fast", "text/plain");
  std::optional<HttpClientResponse> slow_response, fast_response;
  Clock::time_point fast_at{}, slow_at{};
  client->start(get(slow.base_url() + "/"), [&](const HttpClientResponse& r) {
    slow_response = r;
    slow_at = Clock::now();
  });
  client->start(get(fast.base_url() + "/"), [&](const HttpClientResponse& r) {
    fast_response = r;
    fast_at = Clock::now();
  });
  ASSERT_TRUE(run_until(slow_response));
  ASSERT_TRUE(fast_response);
  EXPECT_EQ(fast_response->body, "fast");
  EXPECT_EQ(slow_response->body, "slow");
  EXPECT_LT(fast_at, slow_at);  // in order, whatever the machine's speed
}

TEST_F(HttpClientTest, DestroyingTheClientDropsCompletionsUncalled) {
  CannedHttpServer server(200, "{}", "application/json", 300ms);
  auto token = std::make_shared<int>(0);
  bool called = false;
  client->start(get(server.base_url() + "/"), [&, token](const HttpClientResponse&) { called = true; });
  io.run_for(50ms);
  const std::weak_ptr<int> watch = token;
  token.reset();
  client.reset();
  EXPECT_TRUE(watch.expired());  // the completion (and what it held) is gone
  io.restart();
  io.run_for(400ms);
  EXPECT_FALSE(called);
}

// TLS verified for real: the test CA given as ca_file, the certificate's name checked against the URL's host.
// "localhost" is resolved (to the loopback the responder listens on) and matches the certificate's DNS name.
TEST_F(HttpClientTest, HttpsWithTheTestCaVerifiesTheServerAndItsName) {
  const auto pki = fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  const std::string ca_file = fakes::write_temp_file("http-client-ca.pem", pki.ca_pem);
  TlsHttpServer server(pki, "over tls");
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    HttpClientRequest request = get("https://" + host + ":" + std::to_string(server.port()) + "/secure?x=1");
    request.ca_file = ca_file;
    std::optional<HttpClientResponse> response;
    client->start(request, [&](const HttpClientResponse& r) { response = r; });
    ASSERT_TRUE(run_until(response)) << host;
    EXPECT_EQ(response->status, 200) << host << ": " << response->error;
    EXPECT_EQ(response->body, "over tls") << host;
    EXPECT_TRUE(response->error.empty()) << host << ": " << response->error;
  }
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0], "GET /secure?x=1 HTTP/1.1");
  std::remove(ca_file.c_str());
}

// Without the CA the same server is refused (the system's store does not know it), and with the CA a certificate
// for another name is refused too: ca_file adds trust, it never turns verification off.
TEST_F(HttpClientTest, HttpsRefusesAnUnknownCaAndAWrongName) {
  const auto pki = fakes::make_test_pki({"elsewhere.test"}, {});
  const std::string ca_file = fakes::write_temp_file("http-client-ca.pem", pki.ca_pem);
  TlsHttpServer server(pki, "must not be read");
  const std::string url = "https://localhost:" + std::to_string(server.port()) + "/";
  for (const bool with_ca : {false, true}) {
    HttpClientRequest request = get(url);
    if (with_ca) request.ca_file = ca_file;
    std::optional<HttpClientResponse> response;
    client->start(request, [&](const HttpClientResponse& r) { response = r; });
    ASSERT_TRUE(run_until(response));
    EXPECT_EQ(response->status, 0) << with_ca;
    EXPECT_FALSE(response->timed_out);
    // libcurl's words: "SSL certificate problem: unable to get local issuer certificate", "SSL: no alternative
    // certificate subject name matches target host name 'localhost'".
    EXPECT_NE(response->error.find(with_ca ? "subject name" : "certificate"), std::string::npos) << response->error;
    EXPECT_TRUE(response->body.empty());
  }
  EXPECT_TRUE(server.requests().empty());  // no request was sent over either connection
  std::remove(ca_file.c_str());
}

// A loopback listener whose connections complete in the kernel's backlog and are never accepted: every request to
// it waits for an answer that never comes (a provider in a brownout).
class NeverAnsweringListener {
 public:
  NeverAnsweringListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(fd_, 1024);
    socklen_t size = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    url_ = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/wait";
  }
  ~NeverAnsweringListener() { ::close(fd_); }
  const std::string& url() const { return url_; }

 private:
  int fd_ = -1;
  std::string url_;
};

// The in-flight cap for ordinary requests: with 448 (512 less the 64 kept for teardowns) waiting on a server that
// never answers, the next one is refused (on the loop, in words), not queued (only teardowns wait); a cancelled one
// frees its place at once.
TEST_F(HttpClientTest, PastTheCapOfRequestsInFlightARequestIsRefusedNotQueued) {
  const NeverAnsweringListener silent;
  const HttpClientLimits limits;
  ASSERT_EQ(limits.max_in_flight, 512u);
  ASSERT_EQ(limits.teardown_reserve, 64u);
  const std::size_t cap = limits.max_in_flight - limits.teardown_reserve;
  std::vector<HttpRequestId> ids;
  int completed = 0;
  for (std::size_t i = 0; i < cap; ++i) {
    HttpClientRequest request = get(silent.url());
    request.timeout = 30000ms;
    ids.push_back(client->start(request, [&](const HttpClientResponse&) { ++completed; }));
  }
  EXPECT_EQ(client->in_flight(), cap);
  std::optional<HttpClientResponse> refused;
  client->start(get(silent.url()), [&](const HttpClientResponse& r) { refused = r; });
  EXPECT_FALSE(refused);  // reported on the loop, never inside start()
  ASSERT_TRUE(run_until(refused));
  EXPECT_EQ(refused->status, 0);
  EXPECT_EQ(refused->error, "too many HTTP requests in flight (448; 64 more kept for teardown requests)");
  EXPECT_EQ(client->in_flight(), cap);
  EXPECT_EQ(completed, 0);

  client->cancel(ids.back());
  ids.pop_back();
  EXPECT_EQ(client->in_flight(), cap - 1);
  std::optional<HttpClientResponse> admitted;
  const auto admitted_id = client->start(get(silent.url()), [&](const HttpClientResponse& r) { admitted = r; });
  EXPECT_EQ(client->in_flight(), cap);
  io.restart();
  io.run_for(50ms);
  EXPECT_FALSE(admitted);  // waiting like the others, not refused
  client->cancel(admitted_id);
  for (const auto id : ids) client->cancel(id);
  EXPECT_EQ(client->in_flight(), 0u);
  EXPECT_EQ(completed, 0);
}

// A provider brownout: creates the plugin gave up on still wait for their answers and fill the ordinary share of the
// cap (plus a burst of refused ones in the same turn). A hang-up started as a teardown still goes out and is
// answered: eventually, and never refused. Past the whole cap a teardown waits, unsent, and takes the first place a
// completed or cancelled request frees, before any ordinary request.
TEST_F(HttpClientTest, AHangUpGoesOutWhileHangingCreatesFillTheOrdinaryShare) {
  const NeverAnsweringListener brownout;
  CannedHttpServer provider(200, R"({"status":"completed"})");
  const HttpClientLimits limits;
  const std::size_t ordinary_cap = limits.max_in_flight - limits.teardown_reserve;
  std::vector<HttpRequestId> creates;
  int creates_completed = 0, creates_refused = 0;
  for (std::size_t i = 0; i < ordinary_cap + 20; ++i) {
    HttpClientRequest create = get(brownout.url());
    create.method = "POST";
    create.body = "To=%2B12125550100";
    create.timeout = 30000ms;
    creates.push_back(client->start(create, [&](const HttpClientResponse& r) {
      if (r.error.find("too many HTTP requests in flight") == 0) ++creates_refused;
      else ++creates_completed;
    }));
  }
  // The hang-up, in the same turn of the loop as the refused creates.
  HttpClientRequest hang_up = get(provider.base_url() + "/Calls/CA1.json");
  hang_up.method = "POST";
  hang_up.body = "Status=completed";
  std::optional<HttpClientResponse> hung_up;
  client->start_teardown(hang_up, [&](const HttpClientResponse& r) { hung_up = r; });
  ASSERT_TRUE(run_until(hung_up, 10000ms));
  EXPECT_EQ(hung_up->error, "");
  EXPECT_EQ(hung_up->status, 200);
  ASSERT_EQ(provider.received().size(), 1u);
  EXPECT_EQ(provider.received()[0].rfind("POST /Calls/CA1.json HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(creates_refused, 20);
  EXPECT_EQ(creates_completed, 0);  // the creates are all still waiting
  EXPECT_EQ(client->in_flight(), ordinary_cap);

  // Teardowns that hang too fill the reserve; past the whole cap a teardown waits for a place, unsent.
  std::vector<HttpRequestId> hanging_teardowns;
  for (std::size_t i = 0; i < limits.teardown_reserve; ++i)
    hanging_teardowns.push_back(client->start_teardown(get(brownout.url()), [](const HttpClientResponse&) {}));
  EXPECT_EQ(client->in_flight(), limits.max_in_flight);
  hung_up.reset();
  client->start_teardown(hang_up, [&](const HttpClientResponse& r) { hung_up = r; });
  EXPECT_EQ(client->in_flight(), limits.max_in_flight + 1);
  io.restart();
  io.run_for(50ms);
  EXPECT_FALSE(hung_up);  // waiting, not refused
  EXPECT_EQ(provider.received().size(), 1u);
  // A create given up on at last (cancelled) frees a place: the waiting hang-up takes it, not an ordinary request
  // (the ordinary share is still full).
  client->cancel(creates.front());
  std::optional<HttpClientResponse> ordinary_refused;
  client->start(get(provider.base_url() + "/x"), [&](const HttpClientResponse& r) { ordinary_refused = r; });
  ASSERT_TRUE(run_until(hung_up, 10000ms));
  EXPECT_EQ(hung_up->status, 200) << hung_up->error;
  ASSERT_TRUE(run_until(ordinary_refused));
  EXPECT_EQ(ordinary_refused->status, 0);
  EXPECT_EQ(provider.received().size(), 2u);
  for (const auto id : creates) client->cancel(id);
  for (const auto id : hanging_teardowns) client->cancel(id);
  EXPECT_EQ(client->in_flight(), 0u);
}

// Names, not only addresses: "localhost" (libcurl answers it itself, as RFC 6761 allows) and this machine's own
// host name, which libcurl resolves through the system resolver (getaddrinfo on its resolver thread: the loop never
// waits for it). The host name is used when the system resolves it to 127.0.0.1, where the server listens.
TEST_F(HttpClientTest, NamesAreResolvedThroughTheSystemResolver) {
  CannedHttpServer server(200, R"({"ok":true})");
  std::optional<HttpClientResponse> by_localhost;
  client->start(get("http://localhost:" + std::to_string(server.port()) + "/named"),
                [&](const HttpClientResponse& r) { by_localhost = r; });
  ASSERT_TRUE(run_until(by_localhost));
  EXPECT_EQ(by_localhost->status, 200) << by_localhost->error;

  char name[256] = {0};
  ASSERT_EQ(::gethostname(name, sizeof name - 1), 0);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  bool loopback = false;
  if (::getaddrinfo(name, nullptr, &hints, &found) == 0) {
    for (const addrinfo* a = found; a; a = a->ai_next)
      loopback = loopback || ntohl(reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr.s_addr) == INADDR_LOOPBACK;
    ::freeaddrinfo(found);
  }
  if (!loopback) GTEST_SKIP() << "this machine's name (" << name << ") does not resolve to 127.0.0.1 here";
  std::optional<HttpClientResponse> by_name;
  client->start(get("http://" + std::string(name) + ":" + std::to_string(server.port()) + "/named"),
                [&](const HttpClientResponse& r) { by_name = r; });
  ASSERT_TRUE(run_until(by_name));
  EXPECT_EQ(by_name->status, 200) << by_name->error;
  ASSERT_EQ(server.received().size(), 2u);
  EXPECT_NE(server.received()[1].find("Host: " + std::string(name) + ":"), std::string::npos) << server.received()[1];
}

// Past the whole cap teardowns wait in a bounded queue, first asked first started, each still bound by its own
// timeout counted from when it was asked: one whose time runs out in the queue ends timed out and is never sent; one
// that gets a place is sent with what is left of its time; past the queue's bound a teardown is refused in words.
TEST_F(HttpClientTest, TeardownsPastTheCapWaitBoundedEachByItsOwnTimeout) {
  const NeverAnsweringListener brownout;
  CannedHttpServer provider(200, R"({"status":"completed"})");
  HttpClientLimits limits;
  limits.max_in_flight = 4;
  limits.teardown_reserve = 1;
  limits.teardown_queue = 3;
  client = make_http_client(io, limits);
  std::vector<HttpRequestId> hanging;
  for (int i = 0; i < 4; ++i) {
    HttpClientRequest request = get(brownout.url());
    request.timeout = 30000ms;
    hanging.push_back(client->start_teardown(request, [](const HttpClientResponse&) {}));
  }
  auto hang_up = [&](const std::string& url, std::chrono::milliseconds timeout) {
    HttpClientRequest request = get(url);
    request.method = "POST";
    request.body = "Status=completed";
    request.timeout = timeout;
    return request;
  };
  // Waits 1 s at most, and no place comes in that time.
  std::optional<HttpClientResponse> expired, late, sent, refused;
  const auto asked = Clock::now();
  client->start_teardown(hang_up(provider.base_url() + "/Calls/CA1.json", 1000ms),
                         [&](const HttpClientResponse& r) { expired = r; });
  // Gets a place after ~1 s and has ~1 s of its 2 s left for a provider that never answers.
  client->start_teardown(hang_up(brownout.url(), 2000ms), [&](const HttpClientResponse& r) { late = r; });
  // Gets a place then too, and is answered.
  client->start_teardown(hang_up(provider.base_url() + "/Calls/CA2.json", 30000ms),
                         [&](const HttpClientResponse& r) { sent = r; });
  client->start_teardown(hang_up(provider.base_url() + "/Calls/CA3.json", 30000ms),
                         [&](const HttpClientResponse& r) { refused = r; });
  EXPECT_EQ(client->in_flight(), 4u + 3u + 1u);  // the refusal until it is reported
  ASSERT_TRUE(run_until(refused));
  EXPECT_EQ(refused->error, "too many HTTP requests in flight (4, teardowns included) and 3 teardowns waiting for a place");
  ASSERT_TRUE(run_until(expired, 10000ms));
  const auto expired_after = Clock::now() - asked;
  EXPECT_TRUE(expired->timed_out);
  EXPECT_EQ(expired->status, 0);
  EXPECT_EQ(expired->error, "timed out after 1000 ms waiting for a place among the 4 HTTP requests in flight; never sent");
  EXPECT_GE(expired->elapsed, 1000ms);  // never early
  EXPECT_GE(expired_after, 1000ms);
  EXPECT_TRUE(provider.received().empty());
  // Two places free: the two still waiting take them, in the order they were asked for.
  client->cancel(hanging[0]);
  client->cancel(hanging[1]);
  EXPECT_EQ(client->in_flight(), 4u);
  ASSERT_TRUE(run_until(sent, 10000ms));
  EXPECT_EQ(sent->status, 200) << sent->error;
  ASSERT_EQ(provider.received().size(), 1u);
  EXPECT_EQ(provider.received()[0].rfind("POST /Calls/CA2.json HTTP/1.1\r\n", 0), 0u);
  ASSERT_TRUE(run_until(late, 10000ms));
  EXPECT_TRUE(late->timed_out) << late->error;
  EXPECT_GE(late->elapsed, 2000ms);  // never early ...
  // ... and counted from when it was asked, not from when it got its place (that would be 3 s or more).
  EXPECT_LT(late->elapsed, 2900ms);
  for (const auto id : hanging) client->cancel(id);
  EXPECT_EQ(client->in_flight(), 0u);
}

// A plugin's own HttpClient (a test double) that knows no teardowns starts them as ordinary requests.
TEST_F(HttpClientTest, AClientWithoutAReserveStartsATeardownAsAnOrdinaryRequest) {
  class CountingClient final : public HttpClient {
   public:
    HttpRequestId start(HttpClientRequest request, Completion) override {
      last_url = request.url;
      return ++started;
    }
    void cancel(HttpRequestId) override {}
    std::size_t in_flight() const override { return 0; }
    std::uint64_t started = 0;
    std::string last_url;
  } counting;
  HttpClient& any = counting;
  EXPECT_EQ(any.start_teardown(get("http://127.0.0.1:1/hang-up"), [](const HttpClientResponse&) {}), 1u);
  EXPECT_EQ(counting.last_url, "http://127.0.0.1:1/hang-up");
}

}  // namespace
}  // namespace concierge
