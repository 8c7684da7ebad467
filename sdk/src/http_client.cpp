// HttpClient over libcurl's multi interface, driven by the event loop through libcurl's socket API: libcurl says which
// descriptors it wants watched (CURLMOPT_SOCKETFUNCTION) and when it next needs a tick (CURLMOPT_TIMERFUNCTION); Asio
// watches them (posix::stream_descriptor::async_wait, one steady_timer) and tells libcurl what happened
// (curl_multi_socket_action). No thread per request, no blocking call on the loop: a slow request costs a descriptor
// and a few kilobytes, and every other request goes on at once.
#include "concierge/http_client.hpp"

#include <unistd.h>

#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <curl/curl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace concierge {

HttpClient::~HttpClient() = default;

HttpRequestId HttpClient::start_teardown(HttpClientRequest request, Completion done) {
  return start(std::move(request), std::move(done));
}

namespace {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

void init_curl_once() {
  // libcurl's global state, set up once for the process before the first handle (not thread-safe to race).
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool known_method(const std::string& method) {
  return method == "GET" || method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient(asio::io_context& io, HttpClientLimits limits)
      : io_(io), limits_(limits), timer_(io), queue_timer_(io) {
    init_curl_once();
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlHttpClient::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlHttpClient::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  }

  ~CurlHttpClient() override {
    alive_.reset();  // handlers still queued on the loop find the client gone
    timer_.cancel();
    queue_timer_.cancel();
    queued_.clear();  // queued teardowns' completions too: destroyed uncalled
    // Completions that never ran are destroyed here, uncalled (see the header's OWNERSHIP).
    for (auto& [id, transfer] : transfers_) release(*transfer);
    transfers_.clear();
    early_.clear();
    if (multi_) curl_multi_cleanup(multi_);  // closes cached connections through on_close_socket
    for (auto& [fd, socket] : sockets_) forget(*socket);
    sockets_.clear();
  }

  HttpRequestId start(HttpClientRequest request, Completion done) override {
    return begin(std::move(request), std::move(done), false);
  }

  HttpRequestId start_teardown(HttpClientRequest request, Completion done) override {
    return begin(std::move(request), std::move(done), true);
  }

  void cancel(HttpRequestId id) override {
    early_.erase(id);
    queued_.erase(id);  // its deadline goes with it (the queue's timer finds nothing due and re-arms)
    auto it = transfers_.find(id);
    if (it == transfers_.end()) return;
    auto transfer = std::move(it->second);
    transfers_.erase(it);
    release(*transfer);
    start_queued();
  }

  std::size_t in_flight() const override { return transfers_.size() + early_.size() + queued_.size(); }

 private:
  // Ordinary requests get the cap less the teardown reserve; a teardown may take any place under the cap. Only
  // transfers count: a refusal waiting to be reported holds no connection, and a burst of refused creates must not
  // crowd out a hang-up in the same turn of the loop.
  // Past the whole cap a teardown waits in the queue (bounded by teardown_queue) for a place, first asked first
  // started, and still ends at its own timeout counted from now; teardowns already waiting go before it.
  HttpRequestId begin(HttpClientRequest request, Completion done, bool teardown) {
    const HttpRequestId id = next_id_++;
    const auto asked = Clock::now();
    const std::size_t ordinary_cap = limits_.max_in_flight - std::min(limits_.teardown_reserve, limits_.max_in_flight);
    const std::size_t running = transfers_.size();
    std::string refusal;
    if (request.url.rfind("http://", 0) != 0 && request.url.rfind("https://", 0) != 0)
      refusal = "not an http:// or https:// URL: " + request.url.substr(0, 200);
    else if (!known_method(request.method))
      refusal = "unsupported HTTP method " + request.method.substr(0, 20);
    else if (!teardown && running >= ordinary_cap)
      refusal = "too many HTTP requests in flight (" + std::to_string(ordinary_cap) + "; " +
                std::to_string(limits_.max_in_flight - ordinary_cap) + " more kept for teardown requests)";
    else if (teardown && (running >= limits_.max_in_flight || !queued_.empty())) {
      if (queued_.size() < limits_.teardown_queue) {
        const auto deadline = asked + std::max(request.timeout, std::chrono::milliseconds(1));
        queued_.emplace(id, Queued{std::move(request), std::move(done), asked, deadline});
        arm_queue_timer();
        return id;
      }
      refusal = "too many HTTP requests in flight (" + std::to_string(limits_.max_in_flight) +
                ", teardowns included) and " + std::to_string(queued_.size()) + " teardowns waiting for a place";
    }
    if (refusal.empty()) return launch(id, std::move(request), std::move(done), asked);
    report_soon(id, std::move(done), std::move(refusal));
    return id;
  }

  // Starts a request admitted under the cap. `asked`: when it was asked for (earlier than now for a queued
  // teardown): its timeout and its elapsed time count from then.
  HttpRequestId launch(HttpRequestId id, HttpClientRequest request, Completion done, Clock::time_point asked) {
    std::string refusal;
    if (!multi_) refusal = "libcurl could not start";
    CURL* easy = refusal.empty() ? curl_easy_init() : nullptr;
    if (refusal.empty() && !easy) refusal = "libcurl could not start a request";
    if (!refusal.empty()) {
      report_soon(id, std::move(done), std::move(refusal));
      return id;
    }

    auto transfer = std::make_unique<Transfer>();
    Transfer& t = *transfer;
    t.id = id;
    t.easy = easy;
    t.request = std::move(request);
    t.done = std::move(done);
    t.started = asked;
    const HttpClientRequest& r = t.request;
    for (const auto& [name, value] : r.headers) t.headers = curl_slist_append(t.headers, (name + ": " + value).c_str());
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t.error);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &CurlHttpClient::on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &CurlHttpClient::on_close_socket);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - asked);
    const long timeout_ms = std::max<long>(1, static_cast<long>((r.timeout - waited).count()));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     std::clamp<long>(static_cast<long>(r.connect_timeout.count()), 1, timeout_ms));
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(r.max_response_bytes));
    if (t.headers) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t.headers);
    if (!r.username.empty()) {
      curl_easy_setopt(easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(easy, CURLOPT_USERNAME, r.username.c_str());
      curl_easy_setopt(easy, CURLOPT_PASSWORD, r.password.c_str());
    }
    if (!r.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, r.ca_file.c_str());
    if (r.method == "POST" || !r.body.empty()) {
      // The body stays in t.request, which outlives the transfer.
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
    if (r.method != "GET" && r.method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    else if (r.method == "GET" && !r.body.empty()) curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "GET");

    transfers_.emplace(id, std::move(transfer));
    // Adding the handle asks for a timer tick (on_timer with 0): the transfer starts on the loop, after start().
    if (const CURLMcode added = curl_multi_add_handle(multi_, easy); added != CURLM_OK) {
      auto it = transfers_.find(id);
      Completion completion = std::move(it->second->done);
      release(*it->second);
      transfers_.erase(it);
      report_soon(id, std::move(completion), std::string("libcurl refused the request: ") + curl_multi_strerror(added));
    }
    return id;
  }

  struct Transfer {
    HttpRequestId id = 0;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    HttpClientRequest request;
    Completion done;
    HttpClientResponse response;
    bool too_large = false;
    Clock::time_point started;
    char error[CURL_ERROR_SIZE] = {0};
  };
  // A descriptor libcurl asked us to watch. The descriptor is libcurl's: we never close it (release(), not close()).
  struct Socket {
    explicit Socket(asio::io_context& io) : descriptor(io) {}
    asio::posix::stream_descriptor descriptor;
    int wanted = 0;  // CURL_POLL_IN, _OUT or _INOUT
    bool reading = false, writing = false;  // a wait of that direction is pending
    bool gone = false;
  };
  struct Early {
    Completion done;
    HttpClientResponse response;
  };
  // A teardown asked for while the whole cap was in flight: it waits for a place until its deadline.
  struct Queued {
    HttpClientRequest request;
    Completion done;
    Clock::time_point asked;
    Clock::time_point deadline;  // asked + its timeout
  };

  // ---- libcurl's callbacks (all on the loop: they run inside curl_multi_* calls made here) --------------------
  static int on_socket(CURL*, curl_socket_t fd, int what, void* user, void* assigned) {
    auto* self = static_cast<CurlHttpClient*>(user);
    if (what == CURL_POLL_REMOVE) {
      self->forget(fd);
      return 0;
    }
    auto& socket = self->sockets_[fd];
    if (!assigned || socket.get() != assigned) {
      // A socket libcurl has not told us of before. An entry we still hold for its number is stale (that socket
      // was closed behind our back): its watch died with it, so start afresh.
      if (socket) forget(*socket);
      socket = std::make_shared<Socket>(self->io_);
      boost::system::error_code ec;
      socket->descriptor.assign(fd, ec);
      if (ec) {
        // Cannot be watched; libcurl's own timeouts end the transfer.
        self->sockets_.erase(fd);
        return 0;
      }
      curl_multi_assign(self->multi_, fd, socket.get());
    }
    socket->wanted = what;
    self->arm(fd, socket);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* user) {
    auto* self = static_cast<CurlHttpClient*>(user);
    if (timeout_ms < 0) {
      self->timer_.cancel();
      return 0;
    }
    // Never call back into libcurl from here (its rule): tick from the loop, even for 0 ms.
    self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer_.async_wait([self, alive = std::weak_ptr<bool>(self->alive_)](const boost::system::error_code& ec) {
      if (ec || alive.expired()) return;
      self->act(CURL_SOCKET_TIMEOUT, 0);
    });
    return 0;
  }

  static int on_close_socket(void* user, curl_socket_t fd) {
    static_cast<CurlHttpClient*>(user)->forget(fd);
    return ::close(fd);
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    if (t->response.body.size() + bytes > t->request.max_response_bytes) {
      t->too_large = true;
      return 0;  // libcurl ends the transfer with CURLE_WRITE_ERROR
    }
    t->response.body.append(data, bytes);
    return bytes;
  }

  // ---- the loop's side ------------------------------------------------------------------------------------------
  void arm(curl_socket_t fd, const std::shared_ptr<Socket>& socket) {
    if ((socket->wanted & CURL_POLL_IN) && !socket->reading) {
      socket->reading = true;
      socket->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                    [this, fd, socket, alive = std::weak_ptr<bool>(alive_)](
                                        const boost::system::error_code& ec) {
                                      socket->reading = false;
                                      if (!ec && !alive.expired()) ready(fd, socket, CURL_CSELECT_IN);
                                    });
    }
    if ((socket->wanted & CURL_POLL_OUT) && !socket->writing) {
      socket->writing = true;
      socket->descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                                    [this, fd, socket, alive = std::weak_ptr<bool>(alive_)](
                                        const boost::system::error_code& ec) {
                                      socket->writing = false;
                                      if (!ec && !alive.expired()) ready(fd, socket, CURL_CSELECT_OUT);
                                    });
    }
  }

  void ready(curl_socket_t fd, const std::shared_ptr<Socket>& socket, int direction) {
    if (socket->gone) return;
    act(fd, direction);
    if (!socket->gone) arm(fd, socket);  // still wanted: watch it again (arm checks what libcurl asked for)
  }

  void forget(curl_socket_t fd) {
    auto it = sockets_.find(fd);
    if (it == sockets_.end()) return;
    forget(*it->second);
    sockets_.erase(it);
  }

  static void forget(Socket& socket) {
    socket.gone = true;
    if (!socket.descriptor.is_open()) return;
    boost::system::error_code ignored;
    socket.descriptor.cancel(ignored);
    (void)socket.descriptor.release();  // the descriptor stays libcurl's to close
  }

  void act(curl_socket_t fd, int flags) {
    int running = 0;
    curl_multi_socket_action(multi_, fd, flags, &running);
    // Completions run after libcurl has returned, each checked against the client still being there (a completion
    // may start or cancel other requests, or be the last thing that runs before the host destroys the client).
    std::vector<std::unique_ptr<Transfer>> finished;
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
      if (message->msg != CURLMSG_DONE) continue;
      char* pointer = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &pointer);
      auto* t = reinterpret_cast<Transfer*>(pointer);
      auto it = t ? transfers_.find(t->id) : transfers_.end();
      if (it == transfers_.end()) continue;
      conclude(*it->second, message->data.result);
      finished.push_back(std::move(it->second));
      transfers_.erase(it);
    }
    for (auto& transfer : finished) release(*transfer);
    // Places freed: waiting teardowns take them before any completion can start something new.
    start_queued();
    const std::weak_ptr<bool> alive = alive_;
    for (auto& transfer : finished) {
      Completion done = std::move(transfer->done);
      const HttpClientResponse response = std::move(transfer->response);
      transfer.reset();
      done(response);
      if (alive.expired()) return;
    }
  }

  void conclude(Transfer& t, CURLcode result) {
    HttpClientResponse& response = t.response;
    response.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t.started);
    if (result == CURLE_OK) {
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &response.status);
      char* type = nullptr;
      if (curl_easy_getinfo(t.easy, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type) response.content_type = type;
      return;
    }
    response.status = 0;
    if (t.too_large || result == CURLE_FILESIZE_EXCEEDED) {
      response.error = "the response was larger than " + std::to_string(t.request.max_response_bytes) + " bytes";
      response.body.clear();
      return;
    }
    response.timed_out = result == CURLE_OPERATION_TIMEDOUT;
    response.error = t.error[0] ? t.error : curl_easy_strerror(result);
  }

  // Detaches a transfer from libcurl and frees its handles (may call on_socket/on_close_socket).
  void release(Transfer& t) {
    if (t.easy) {
      curl_multi_remove_handle(multi_, t.easy);
      curl_easy_cleanup(t.easy);
      t.easy = nullptr;
    }
    if (t.headers) {
      curl_slist_free_all(t.headers);
      t.headers = nullptr;
    }
  }

  // Queued teardowns, first asked first, into the places under the cap; those whose time ran out while they waited
  // end timed out, never sent.
  void start_queued() {
    while (!queued_.empty() && transfers_.size() < limits_.max_in_flight) {
      auto node = queued_.extract(queued_.begin());
      Queued& q = node.mapped();
      if (Clock::now() >= q.deadline) {
        time_out_queued(node.key(), q);
        continue;
      }
      launch(node.key(), std::move(q.request), std::move(q.done), q.asked);
    }
    arm_queue_timer();
  }

  void time_out_queued(HttpRequestId id, Queued& q) {
    HttpClientResponse response;
    response.timed_out = true;
    response.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - q.asked);
    response.error = "timed out after " + std::to_string(q.request.timeout.count()) +
                     " ms waiting for a place among the " + std::to_string(limits_.max_in_flight) +
                     " HTTP requests in flight; never sent";
    report_soon(id, std::move(q.done), std::move(response));
  }

  // One timer for the queue: at the earliest deadline of the teardowns waiting (a few hundred at most to look at).
  void arm_queue_timer() {
    if (queued_.empty()) {
      queue_timer_.cancel();
      queue_timer_armed_ = false;
      return;
    }
    auto earliest = queued_.begin()->second.deadline;
    for (const auto& [id, q] : queued_) earliest = std::min(earliest, q.deadline);
    if (queue_timer_armed_ && queue_timer_.expiry() == earliest) return;
    queue_timer_armed_ = true;
    queue_timer_.expires_at(earliest);
    queue_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
      if (ec || alive.expired()) return;
      queue_timer_armed_ = false;
      const auto now = Clock::now();
      for (auto it = queued_.begin(); it != queued_.end();) {
        if (it->second.deadline > now) {
          ++it;
          continue;
        }
        auto node = queued_.extract(it++);
        time_out_queued(node.key(), node.mapped());
      }
      arm_queue_timer();
    });
  }

  void report_soon(HttpRequestId id, Completion done, std::string error) {
    HttpClientResponse response;
    response.error = std::move(error);
    report_soon(id, std::move(done), std::move(response));
  }

  void report_soon(HttpRequestId id, Completion done, HttpClientResponse response) {
    early_.emplace(id, Early{std::move(done), std::move(response)});
    asio::post(io_, [this, id, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.expired()) return;
      auto it = early_.find(id);
      if (it == early_.end()) return;  // cancelled
      Early early = std::move(it->second);
      early_.erase(it);
      early.done(early.response);
    });
  }

  asio::io_context& io_;
  HttpClientLimits limits_;
  CURLM* multi_ = nullptr;
  asio::steady_timer timer_;
  asio::steady_timer queue_timer_;  // the earliest deadline among queued_
  bool queue_timer_armed_ = false;
  std::unordered_map<curl_socket_t, std::shared_ptr<Socket>> sockets_;
  std::map<HttpRequestId, std::unique_ptr<Transfer>> transfers_;
  std::map<HttpRequestId, Early> early_;  // requests refused before they started, reported on the next turn
  std::map<HttpRequestId, Queued> queued_;  // teardowns waiting for a place under the cap, first asked first
  HttpRequestId next_id_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<HttpClient> make_http_client(boost::asio::io_context& io, HttpClientLimits limits) {
  return std::make_unique<CurlHttpClient>(io, limits);
}

}  // namespace concierge
