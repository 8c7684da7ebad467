#pragma once
// Outbound HTTP(S) requests for plugins (a provider's REST API) that never block the event loop and hold no thread
// per request. The host offers one client to every plugin (HostServices::http()); its requests run concurrently and
// share connections (keep-alive, TLS sessions), so a slow request never delays another.
//
// THREADS: everything here runs on the host's event loop (HostServices::io()). start() and cancel() must be called
// on it; every completion runs on it.
// OWNERSHIP: the client keeps a request's completion until the completion has run or the request was cancelled.
// Whoever owns the client (the host) destroys it, and with it every completion that has not run (without calling
// them), before it unloads the plugin whose code they are.
//
// CAPACITY, AND WHAT TO SEND AS A TEARDOWN (SDK 1.6)
// The client holds at most HttpClientLimits::max_in_flight requests (512 in the host) and refuses more rather than
// queue without bound. Part of that cap (teardown_reserve, 64 in the host) is kept for TEARDOWN requests: a request
// that ends or releases something the provider holds for a call (a hang-up, a cancel of a ringing call, ending at
// the provider a call given up on here). Start those with start_teardown(); start everything else (creates,
// queries, anything that begins or looks up something) with start(). Why: during a provider brownout, creates that
// were given up on may wait for their answer for many seconds each and fill the ordinary share, and a hang-up refused
// then would leave a callee's phone ringing, or a call running and billed, with nobody on our side. Ordinary
// requests are refused once max_in_flight - teardown_reserve requests of any kind are in flight. A teardown asked for
// while max_in_flight are in flight is QUEUED, not refused: it waits, first asked first started, for a
// place, and still ends at its own `timeout` counted from when it was asked (timed_out, "... never sent" when no
// place came in time), so a queued hang-up is neither lost silently nor waits forever. The queue is bounded
// (HttpClientLimits::teardown_queue, 512 in the host); past it a teardown is refused in words. Marking an ordinary
// request as a teardown takes the reserve away from real hang-ups: don't.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio { class io_context; }

namespace concierge {

struct HttpClientRequest {
  std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE
  std::string url;             // http:// or https:// (no other scheme is followed; redirects are not followed)
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given ("Content-Type", "application/json")
  std::string body;            // sent for any method when not empty
  // HTTP basic authentication when `username` is not empty (libcurl's CURLOPT_USERNAME / CURLOPT_PASSWORD).
  std::string username;
  std::string password;
  // The whole request, connecting included; past it the request ends with timed_out set.
  std::chrono::milliseconds timeout{15000};
  std::chrono::milliseconds connect_timeout{10000};  // capped at `timeout`
  // A response body larger than this ends the request with an error instead of being buffered.
  std::size_t max_response_bytes = 1 << 20;
  // TLS: certificates are verified against the system's store, host name included. `ca_file` adds a PEM bundle to
  // trust instead (tests with their own CA); it never turns verification off.
  std::string ca_file;
};

struct HttpClientResponse {
  long status = 0;          // the HTTP status; 0 when no complete response arrived (see `error`)
  std::string body;         // at most max_response_bytes
  std::string content_type;
  // Why there is no response, in words ("Connection refused", "Operation timed out after 1000 milliseconds ...",
  // "the response was larger than 1048576 bytes"); empty when one arrived, whatever its status.
  std::string error;
  bool timed_out = false;
  std::chrono::milliseconds elapsed{0};
};

using HttpRequestId = std::uint64_t;

class HttpClient {
 public:
  using Completion = std::function<void(const HttpClientResponse&)>;
  virtual ~HttpClient();
  // Starts `request` and returns at once. `done` runs exactly once, on the event loop and never inside start(), with
  // the response or the reason there is none (a request that cannot even start reports its error the same way).
  virtual HttpRequestId start(HttpClientRequest request, Completion done) = 0;
  // Abandons a request: its connection is dropped and `done` is destroyed without being called. An id that is
  // unknown or already completed is ignored.
  virtual void cancel(HttpRequestId id) = 0;
  // Requests started and not yet completed or cancelled (queued teardowns included).
  virtual std::size_t in_flight() const = 0;
  // SDK 1.6: like start(), for a TEARDOWN request (see CAPACITY above): it may use the share of the cap kept for
  // teardowns, so it goes out even while ordinary requests fill theirs. Same threads, ownership and completion rules
  // as start(). The default (a client with no reserve, e.g. a plugin's own test double) starts it as start() does.
  // At the END of the class (a 1.2-1.5 plugin's calls use the slots before it).
  virtual HttpRequestId start_teardown(HttpClientRequest request, Completion done);
};

struct HttpClientLimits {
  // Requests of any kind in flight at once; past it start_teardown() queues (see teardown_queue).
  std::size_t max_in_flight = 512;
  // Of max_in_flight, kept for start_teardown(): start() reports an error once max_in_flight - teardown_reserve
  // requests are in flight. At most max_in_flight (then only teardowns are ever admitted).
  std::size_t teardown_reserve = 64;
  // Teardowns waiting for a place while max_in_flight are in flight, each until its own timeout; past
  // this many start_teardown() reports an error. 0: none wait (a teardown past the cap is refused).
  std::size_t teardown_queue = 512;
};

// The SDK's client: libcurl's multi interface driven by `io` through its socket API (CURLMOPT_SOCKETFUNCTION and
// CURLMOPT_TIMERFUNCTION on Asio descriptors and a steady_timer). `io` must outlive the client and be run by one
// thread. Hosts make one and offer it as HostServices::http(); a plugin's tests may make their own.
std::unique_ptr<HttpClient> make_http_client(boost::asio::io_context& io, HttpClientLimits limits = {});

}  // namespace concierge
