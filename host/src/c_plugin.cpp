#include "c_plugin.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "concierge/http_client.hpp"
#include "concierge/net/websocket_client.hpp"
#include "plugin_load_error.hpp"

namespace asio = boost::asio;
using concierge::AudioEncoding;
using concierge::AudioFormat;
using concierge::AudioFrame;

namespace {

std::atomic<std::size_t> g_pending{0};

// Held by every timer, post and blocking work item while it is outstanding (abi.h: "count them").
// Move-only and held by value, so that a post or a timer's wait carries it without an allocation of its own.
struct PendingToken {
  PendingToken() { ++g_pending; }
  PendingToken(PendingToken&& other) noexcept : counted(std::exchange(other.counted, false)) {}
  PendingToken(const PendingToken&) = delete;
  PendingToken& operator=(const PendingToken&) = delete;
  PendingToken& operator=(PendingToken&&) = delete;
  ~PendingToken() {
    if (counted) --g_pending;
  }
  bool counted = true;
};

// One of a plugin instance's timers. Slots and their asio timers are recycled, never freed while the instance's
// context lives, so a plugin that re-arms a timer every frame (a simulator's pacing) costs no allocation per arming.
// A timer id is the slot's index + 1 and its generation, so a stale id or a wait that completed before it was
// cancelled finds another generation and runs nothing.
struct TimerSlot {
  explicit TimerSlot(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  concierge_callback fn = nullptr;
  void* user = nullptr;
  std::uint32_t generation = 0;
  bool armed = false;
};

std::string_view view(concierge_str s) { return s.len ? std::string_view(s.ptr, s.len) : std::string_view(); }
concierge_str str(std::string_view s) { return concierge_str{s.data(), s.size()}; }

concierge_audio_format to_c(AudioFormat format) {
  return concierge_audio_format{static_cast<std::uint32_t>(format.encoding), format.sample_rate, 1};
}
concierge_line_event to_c(const concierge::LineEvent& event) {
  return concierge_line_event{sizeof(concierge_line_event), str(event.kind), str(event.detail), event.beep_hz,
                              str(event.note), event.respond_now ? 1 : 0};
}
bool from_c(std::uint32_t encoding, std::uint32_t rate, AudioFormat& out) {
  if (encoding != CONCIERGE_ENCODING_PCM16 && encoding != CONCIERGE_ENCODING_MULAW) return false;
  out = AudioFormat{static_cast<AudioEncoding>(encoding), rate};
  return true;
}

// Plugin-reported counters and gauges, rendered on /metrics (render_plugin_metrics). Event loop only.
struct PluginMetric {
  bool counter = true;
  double value = 0;
};
std::map<std::string, PluginMetric>& plugin_metrics() {
  static std::map<std::string, PluginMetric> metrics;
  return metrics;
}

bool is_metric_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

}  // namespace

// abi.h's concierge_host: the host's side of one plugin instance.
struct concierge_host {
  concierge_host(std::shared_ptr<const void> library_, concierge::HostServices& services_,
                 std::shared_ptr<concierge::Logger> log_, std::string plugin_)
      : library(std::move(library_)),
        services(services_),
        io(services_.io()),
        log(std::move(log_)),
        plugin(std::move(plugin_)),
        public_domain(services_.public_domain()) {
    for (char& c : metric_prefix = "concierge_plugin_" + plugin + "_")
      if (c == '-') c = '_';
  }

  // Drops everything outstanding (timers, posts, blocking completions, HTTP requests, WebSocket clients) and waits
  // for blocking work that is running. After it, nothing of the plugin is called through this context.
  void close() {
    {
      std::unique_lock lock(mutex);
      open = false;
      idle.wait(lock, [&] { return running_work == 0; });
    }
    for (auto& slot : timer_slots)  // each cancelled wait finds the context closed
      if (std::exchange(slot->armed, false)) slot->timer.cancel();
    for (const auto id : http_requests) services.http().cancel(id);
    http_requests.clear();
    for (auto* client : std::set<concierge_ws_client*>(ws_clients)) close_ws_client(client);
  }
  void close_ws_client(concierge_ws_client* client);
  // The TLS contexts of this instance's wss:// clients, one per CA file ("" = the system's store), shared by every
  // connection (as the SDK's client allows). Making one loads the CA store, 28-59 ms for the system's on a 2-core
  // machine: far too long for the loop, at every call's connect or even once. So the first client of a CA file waits
  // (in tls_waiting) while a blocking worker loads it; its SDK client is made on the loop once the context is there,
  // or it fails through its listener. A file that fails to load is not kept, so a fixed file is read again.
  // ws_client_prepare_tls (C ABI 1.3) starts the same load ahead of the first client (the system's store) or does it
  // at once (a plugin's PEM bundle, from create()).
  void load_tls_context(const std::string& ca_file);
  void tls_context_loaded(const std::string& ca_file, std::shared_ptr<boost::asio::ssl::context> context,
                          const std::string& error);
  std::map<std::string, std::vector<concierge_ws_client*>> tls_waiting;  // loop thread only
  std::set<std::string> tls_loading;  // CA files a worker is loading (at most one load each); loop thread only
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>> tls_contexts;  // loop thread only

  std::shared_ptr<const void> library;  // the .so: mapped while this context lives
  concierge::HostServices& services;
  asio::io_context& io;
  std::shared_ptr<concierge::Logger> log;
  std::string plugin;
  std::string public_domain;
  std::string metric_prefix;
  std::weak_ptr<concierge_host> self;

  std::mutex mutex;  // guards open (with atomic reads outside) and running_work
  std::condition_variable idle;
  std::atomic<bool> open{true};
  int running_work = 0;

  std::vector<std::unique_ptr<TimerSlot>> timer_slots;
  std::vector<std::uint32_t> free_timer_slots;  // capacity kept at timer_slots' own, so freeing never allocates
  // The index of the slot that timer `id` names, if that slot is still armed for it; -1 otherwise.
  std::int64_t armed_timer(std::uint64_t id) const {
    const std::uint64_t low = id & 0xffffffffu;
    if (low == 0 || low > timer_slots.size()) return -1;
    const TimerSlot& slot = *timer_slots[low - 1];
    return slot.armed && slot.generation == static_cast<std::uint32_t>(id >> 32) ? static_cast<std::int64_t>(low - 1)
                                                                                   : -1;
  }
  std::set<concierge::HttpRequestId> http_requests;
  std::set<concierge_ws_client*> ws_clients;
  // Telephony: every call's events still referenced (by a leg adapter or the plugin's retains), freed at the latest
  // after the plugin's destroy(); and the instance, for the legs of inbound calls.
  std::set<concierge_call_events*> call_events;
  std::weak_ptr<void> instance;
  void drop_call_events();
};

// abi.h's concierge_voice_events: the host's side of one voice session. Owned by the session adapter.
struct concierge_voice_events {
  std::shared_ptr<concierge::VoiceSessionEvents> events;  // null once the session is closed
  concierge_host* host = nullptr;
};

// abi.h's concierge_call_events: the host's side of one call. Held by the leg adapter (one reference) and by each
// call_events_retain of the plugin's; freed with the last, or when the instance is destroyed.
struct concierge_call_events {
  concierge::CallEvents* events = nullptr;  // events_owner.get(): what the per-frame path reads
  std::shared_ptr<concierge::CallEvents> events_owner;  // the call's (it holds the call weakly)
  concierge_host* host = nullptr;
  int references = 1;
};

// abi.h's concierge_http_response_writer: the response a plugin writes, on the caller's stack.
struct concierge_http_response_writer {
  concierge::HttpResponse response;
};

namespace {
// A request the host received, in abi.h's form: views of `request`, which must outlive it.
struct CRequest {
  explicit CRequest(const concierge::HttpRequest& request) {
    query.reserve(request.query.size());
    for (const auto& [name, value] : request.query) query.push_back({str(name), str(value)});
    headers.reserve(request.headers.size());
    for (const auto& [name, value] : request.headers) headers.push_back({str(name), str(value)});
    c = concierge_http_request{sizeof(concierge_http_request), str(request.method), str(request.target),
                               str(request.path), query.data(), query.size(), headers.data(), headers.size(),
                               str(request.body), str(request.remote_address)};
  }
  CRequest(const CRequest&) = delete;
  CRequest& operator=(const CRequest&) = delete;
  std::vector<concierge_header> query, headers;
  concierge_http_request c{};
};
}  // namespace

namespace {
// abi.h's concierge_ws_peer: one accepted media stream, valid until the plugin's handler for it is destroyed. The
// handle the plugin gets is the host's WebSocketPeer itself, so a message sent (twice per frame: media and mark)
// touches no object of this adapter's (measured: one cache miss per send less on a loaded machine); this box, found
// from the handle in peer_boxes(), holds the peer and its upgrade request in C. Loop thread only.
struct PeerBox {
  explicit PeerBox(std::shared_ptr<concierge::WebSocketPeer> peer_)
      : peer(std::move(peer_)), request(peer->upgrade_request()) {}
  std::shared_ptr<concierge::WebSocketPeer> peer;
  CRequest request;  // views of peer->upgrade_request(), which lives as long as the peer
};
std::map<const void*, PeerBox*>& peer_boxes() {
  static std::map<const void*, PeerBox*> open;
  return open;
}
concierge::WebSocketPeer* peer_of(concierge_ws_peer* p) { return reinterpret_cast<concierge::WebSocketPeer*>(p); }
concierge_ws_peer* handle_of(PeerBox& box) { return reinterpret_cast<concierge_ws_peer*>(box.peer.get()); }
}  // namespace

// A refused upgrade as the SDK's client saw it (its describe_refusal hook fills it in just before it fails), for
// abi.h's on_refused (C ABI 1.3). Shared with that hook, which the SDK client keeps as long as it lives.
struct WsRefusal {
  unsigned status = 0;  // 0: no refusal
  std::string detail;
};

// abi.h's concierge_ws_client: the SDK's WebSocket client run for the plugin on the host's loop.
struct concierge_ws_client final : concierge::net::WebSocketListener {
  std::shared_ptr<concierge::net::WebSocketClient> client;
  concierge_ws_client_listener listener{};  // only what the plugin's struct_size covers; the rest NULL
  void* user = nullptr;
  concierge_host* host = nullptr;
  bool failed = false;
  // Set while the client waits for its CA file's TLS context (concierge_host::tls_waiting): `client` is made then.
  std::unique_ptr<concierge::net::WebSocketClientOptions> waiting;
  std::string ca_file;
  std::shared_ptr<WsRefusal> refusal;  // when the listener has on_refused
  // While the plugin's on_refused runs, ws_client_close only marks the client closed; on_websocket_failed frees it
  // once on_refused has returned (and tells on_failed nothing).
  bool in_on_refused = false;
  bool closed_in_on_refused = false;
  void on_websocket_open() override {
    if (host->open && listener.on_open) listener.on_open(user);
  }
  void on_websocket_message(std::string_view text) override {
    if (host->open && listener.on_message) listener.on_message(user, str(text));
  }
  void on_websocket_failed(std::string_view message) override {
    failed = true;
    if (!host->open) return;
    if (refusal && refusal->status != 0) {  // a refused upgrade: first as data (the listener has on_refused)
      in_on_refused = true;
      listener.on_refused(user, static_cast<std::int32_t>(refusal->status), str(refusal->detail));
      in_on_refused = false;
      if (closed_in_on_refused) {
        delete this;  // closed by the plugin from inside on_refused (concierge_host::close_ws_client)
        return;
      }
    }
    if (listener.on_failed) listener.on_failed(user, str(message));  // the plugin may close (and free) it in here
  }
};

void concierge_host::drop_call_events() {
  for (auto* e : call_events) delete e;
  call_events.clear();
}

void concierge_host::close_ws_client(concierge_ws_client* client) {
  if (!ws_clients.erase(client)) return;
  if (client->waiting) {
    auto& waiting = tls_waiting[client->ca_file];
    waiting.erase(std::remove(waiting.begin(), waiting.end(), client), waiting.end());
  }
  if (client->client) client->client->close();
  // The SDK client holds only a plain pointer to its listener and calls nothing after close(); operations still in
  // flight hold the client, not the listener.
  if (client->in_on_refused) {
    client->closed_in_on_refused = true;  // freed by on_websocket_failed once the plugin's on_refused returns
    return;
  }
  delete client;
}

void concierge_host::load_tls_context(const std::string& ca_file) {
  if (!tls_loading.insert(ca_file).second) return;  // a worker is loading it already
  services.run_blocking([self = this->self.lock(), ca_file] {
    std::shared_ptr<boost::asio::ssl::context> context;
    std::string error;
    try {
      context = concierge::net::make_tls_client_context(ca_file);  // on a worker: touches only its own data
    } catch (const std::exception& e) {
      error = e.what();
    }
    asio::post(self->io, [self, ca_file, context = std::move(context), error = std::move(error)] {
      self->tls_context_loaded(ca_file, context, error);
    });
  });
}

void concierge_host::tls_context_loaded(const std::string& ca_file,
                                        std::shared_ptr<boost::asio::ssl::context> context, const std::string& error) {
  if (!open) return;  // close() has ended every client, the waiting ones too
  tls_loading.erase(ca_file);
  if (context) tls_contexts.emplace(ca_file, context);
  // ws_client_prepare_tls may have loaded the file on the loop meanwhile: the waiting clients take that one.
  if (const auto known = tls_contexts.find(ca_file); known != tls_contexts.end()) context = known->second;
  // One client at a time, each taken off the list first: a listener may close or open clients while it is told.
  for (;;) {
    const auto it = tls_waiting.find(ca_file);
    if (it == tls_waiting.end()) return;
    if (it->second.empty()) {
      tls_waiting.erase(it);
      return;
    }
    concierge_ws_client* client = it->second.front();
    it->second.erase(it->second.begin());
    const std::unique_ptr<concierge::net::WebSocketClientOptions> options = std::move(client->waiting);
    if (context) {
      client->client = concierge::net::WebSocketClient::create(io, context, std::move(*options));
      client->client->start(client);
    } else {
      client->on_websocket_failed("could not connect to " + options->peer_name + ": " + error);
    }
  }
}

namespace concierge::host::c_abi {
namespace {

// ---- the host table ----

void host_log(concierge_host* h, std::int32_t level, concierge_str message) {
  if (!h || !h->log || level < CONCIERGE_LOG_DEBUG || level > CONCIERGE_LOG_ERROR) return;
  const auto l = static_cast<LogLevel>(level);
  if (h->log->enabled(l)) h->log->write(l, view(message));
}
std::int32_t host_log_enabled(concierge_host* h, std::int32_t level) {
  if (!h || !h->log || level < CONCIERGE_LOG_DEBUG || level > CONCIERGE_LOG_ERROR) return 0;
  return h->log->enabled(static_cast<LogLevel>(level)) ? 1 : 0;
}
void host_metric(concierge_host* h, concierge_str name, double value, bool counter) {
  if (!h || !is_metric_name(view(name))) return;
  auto& metric = plugin_metrics()[h->metric_prefix + std::string(view(name)) + (counter ? "_total" : "")];
  metric.counter = counter;
  metric.value = counter ? metric.value + value : value;
}
void host_metric_add(concierge_host* h, concierge_str name, double delta) { host_metric(h, name, delta, true); }
void host_metric_set(concierge_host* h, concierge_str name, double value) { host_metric(h, name, value, false); }

std::int32_t host_post(concierge_host* h, concierge_callback fn, void* user) {
  if (!h || !fn) return CONCIERGE_E_INVALID;
  if (!h->open.load()) return CONCIERGE_E_STATE;
  std::shared_ptr<concierge_host> self = h->self.lock();
  if (!self) return CONCIERGE_E_STATE;
  asio::post(h->io, [self = std::move(self), fn, user, token = PendingToken()] {
    if (self->open.load()) fn(user);
  });
  return CONCIERGE_OK;
}

std::uint64_t host_timer_start(concierge_host* h, std::uint64_t delay_us, concierge_callback fn, void* user) {
  if (!h || !fn || !h->open.load()) return 0;
  if (h->free_timer_slots.empty()) {  // the pool grows to the plugin's peak of armed timers, then is reused
    h->timer_slots.push_back(std::make_unique<TimerSlot>(h->io));
    h->free_timer_slots.reserve(h->timer_slots.capacity());
    h->free_timer_slots.push_back(static_cast<std::uint32_t>(h->timer_slots.size() - 1));
  }
  const std::uint32_t index = h->free_timer_slots.back();
  h->free_timer_slots.pop_back();
  TimerSlot& slot = *h->timer_slots[index];
  slot.fn = fn;
  slot.user = user;
  slot.armed = true;
  const std::uint32_t generation = ++slot.generation;
  slot.timer.expires_after(std::chrono::microseconds(delay_us));
  slot.timer.async_wait([self = h->self.lock(), index, generation, token = PendingToken()](
                            const boost::system::error_code& error) {
    if (error || !self->open.load()) return;
    TimerSlot& fired = *self->timer_slots[index];
    if (!fired.armed || fired.generation != generation) return;  // cancelled (perhaps re-armed) before this ran
    fired.armed = false;
    self->free_timer_slots.push_back(index);
    const concierge_callback fn = fired.fn;  // read first: fn may re-arm this very slot
    void* const user = fired.user;
    fn(user);
  });
  return (static_cast<std::uint64_t>(generation) << 32) | (static_cast<std::uint64_t>(index) + 1);
}

void host_timer_cancel(concierge_host* h, std::uint64_t id) {
  if (!h) return;
  const std::int64_t index = h->armed_timer(id);
  if (index < 0) return;  // unknown, fired or cancelled: ignored (abi.h)
  TimerSlot& slot = *h->timer_slots[static_cast<std::size_t>(index)];
  slot.armed = false;
  slot.timer.cancel();  // a wait already completed finds the slot disarmed (or another generation) and runs nothing
  h->free_timer_slots.push_back(static_cast<std::uint32_t>(index));
}

std::int32_t host_run_blocking(concierge_host* h, concierge_callback work, concierge_callback done, void* user) {
  if (!h || !work) return CONCIERGE_E_INVALID;
  if (!h->open.load()) return CONCIERGE_E_STATE;
  auto token = std::make_shared<PendingToken>();
  h->services.run_blocking([self = h->self.lock(), work, done, user, token] {
    {
      std::lock_guard lock(self->mutex);
      if (!self->open) return;
      ++self->running_work;
    }
    work(user);
    {
      std::lock_guard lock(self->mutex);
      --self->running_work;
    }
    self->idle.notify_all();
    asio::post(self->io, [self, done, user, token] {
      if (done && self->open.load()) done(user);
    });
  });
  return CONCIERGE_OK;
}

concierge_str host_public_domain(concierge_host* h) { return h ? str(h->public_domain) : concierge_str{}; }

// ---- telephony: a call's events, responses, media stream peers ----

concierge_call_events* new_call_events(concierge_host* h, std::shared_ptr<CallEvents> events) {
  auto* e = new concierge_call_events;
  e->events = events.get();
  e->events_owner = std::move(events);
  e->host = h;
  h->call_events.insert(e);
  return e;
}
void release_call_events(concierge_call_events* e) {
  if (!e || --e->references > 0) return;
  e->host->call_events.erase(e);
  delete e;
}

CallEvents* live(concierge_call_events* e) { return e ? e->events : nullptr; }

bool status_from_c(const concierge_call_status_update* u, CallStatusUpdate& out) {
  if (!u) return false;
  concierge_call_status_update c{};
  std::memcpy(&c, u, std::min<std::size_t>(sizeof c, u->struct_size));
  if (c.status < CONCIERGE_CALL_QUEUED || c.status > CONCIERGE_CALL_TIMED_OUT) return false;
  out.status = static_cast<CallStatus>(c.status);
  out.reason = std::string(view(c.reason));
  if (c.duration_seconds >= 0) out.duration_seconds = c.duration_seconds;
  out.answered_by = std::string(view(c.answered_by));
  return true;
}

void call_provider_call_id(concierge_call_events* e, concierge_str id) {
  if (auto* ev = live(e)) ev->on_provider_call_id(view(id));
}
void call_status(concierge_call_events* e, const concierge_call_status_update* u) {
  CallStatusUpdate update;
  if (auto* ev = live(e); ev && status_from_c(u, update)) ev->on_status(update);
}
void call_media_started(concierge_call_events* e, concierge_audio_format f) {
  AudioFormat format;
  if (auto* ev = live(e); ev && from_c(f.encoding, f.rate, format)) ev->on_media_started(format);
}
// The per-frame path: the plugin's bytes, borrowed, straight into the call bridge.
void call_audio(concierge_call_events* e, const concierge_frame* frame) {
  auto* ev = live(e);
  AudioFormat format;
  if (!ev || !frame || !from_c(frame->encoding, frame->rate, format)) return;
  ev->on_audio(AudioFrame{format, std::span<const std::uint8_t>(frame->data, frame->bytes), frame->timestamp_us});
}
void call_playback_progress(concierge_call_events* e, std::int64_t played_us) {
  if (auto* ev = live(e)) ev->on_playback_progress(std::chrono::microseconds(played_us));
}
void call_dtmf(concierge_call_events* e, char digit) {
  if (auto* ev = live(e)) ev->on_dtmf(digit);
}
void call_media_stopped(concierge_call_events* e, concierge_str reason) {
  if (auto* ev = live(e)) ev->on_media_stopped(view(reason));
}
void call_simulated_callee_text(concierge_call_events* e, concierge_str text) {
  if (auto* ev = live(e)) ev->on_simulated_callee_text(view(text));
}
void call_late_status(concierge_call_events* e, const concierge_call_status_update* u) {
  CallStatusUpdate update;
  if (auto* ev = live(e); ev && status_from_c(u, update)) ev->on_late_status(update);
}
concierge_call_events* call_events_retain(concierge_call_events* e) {
  if (e) ++e->references;
  return e;
}
void call_events_release(concierge_call_events* e) { release_call_events(e); }

void response_set_status(concierge_http_response_writer* w, std::int32_t status) {
  if (w && status >= 100 && status <= 599) w->response.status = status;
}
void response_set_content_type(concierge_http_response_writer* w, concierge_str content_type) {
  if (w) w->response.content_type = std::string(view(content_type));
}
void response_add_header(concierge_http_response_writer* w, concierge_str name, concierge_str value) {
  if (w && name.len) w->response.headers.emplace_back(std::string(view(name)), std::string(view(value)));
}
void response_append_body(concierge_http_response_writer* w, concierge_str bytes) {
  if (w) w->response.body.append(view(bytes));
}

std::int32_t ws_peer_send_text(concierge_ws_peer* p, concierge_str message) {
  concierge::WebSocketPeer* peer = peer_of(p);
  if (!peer || !peer->is_open()) return 0;
  peer->send_text(view(message));
  return 1;
}
void ws_peer_close(concierge_ws_peer* p, concierge_str reason) {
  if (p) peer_of(p)->close(view(reason));
}
std::int32_t ws_peer_is_open(concierge_ws_peer* p) { return p && peer_of(p)->is_open() ? 1 : 0; }
const concierge_http_request* ws_peer_upgrade_request(concierge_ws_peer* p) {
  const auto it = peer_boxes().find(p);
  return it == peer_boxes().end() ? nullptr : &it->second->request.c;
}

// Defined with the telephony adapters below.
concierge_call_events* host_accept_inbound_call(concierge_host* h, const concierge_inbound_call* call,
                                                concierge_call_leg* handle);

// ---- voice events ----

// No check of the instance's context here: a session's events are cleared when it closes, and the context closes only
// after every session is destroyed (one cache line less on the per-frame path).
VoiceSessionEvents* live(concierge_voice_events* e) { return e ? e->events.get() : nullptr; }
void voice_ready(concierge_voice_events* e) {
  if (auto* ev = live(e)) ev->on_ready();
}
void voice_audio(concierge_voice_events* e, const concierge_frame* frame) {
  auto* ev = live(e);
  AudioFormat format;
  if (!ev || !frame || !from_c(frame->encoding, frame->rate, format)) return;
  ev->on_audio(AudioFrame{format, std::span<const std::uint8_t>(frame->data, frame->bytes), frame->timestamp_us});
}
void voice_speech_started(concierge_voice_events* e) {
  if (auto* ev = live(e)) ev->on_callee_speech_started();
}
void voice_speech_stopped(concierge_voice_events* e) {
  if (auto* ev = live(e)) ev->on_callee_speech_stopped();
}
void voice_interruption(concierge_voice_events* e) {
  if (auto* ev = live(e)) ev->on_interruption();
}
void voice_transcript(concierge_voice_events* e, std::int32_t speaker, concierge_str text) {
  auto* ev = live(e);
  if (!ev || speaker < CONCIERGE_SPEAKER_AGENT || speaker > CONCIERGE_SPEAKER_SYSTEM) return;
  ev->on_transcript(static_cast<Speaker>(speaker), view(text));
}
void voice_tool_call(concierge_voice_events* e, concierge_str id, concierge_str name, concierge_str arguments) {
  auto* ev = live(e);
  if (!ev) return;
  ToolCall call{std::string(view(id)), std::string(view(name)), nlohmann::json::object()};
  call.arguments = nlohmann::json::parse(view(arguments), nullptr, false);
  if (call.arguments.is_discarded()) {
    ev->on_error("the voice model sent tool call " + call.name + " with arguments that are not JSON", false);
    return;
  }
  ev->on_tool_call(call);
}
void voice_metrics(concierge_voice_events* e, const concierge_voice_metrics* m) {
  auto* ev = live(e);
  if (!ev || !m) return;
  concierge_voice_metrics copy{};
  std::memcpy(&copy, m, std::min<std::size_t>(sizeof copy, m->struct_size));
  VoiceMetrics metrics;
  if (copy.response_latency_us >= 0) metrics.response_latency = std::chrono::microseconds(copy.response_latency_us);
  metrics.input_tokens = copy.input_tokens;
  metrics.output_tokens = copy.output_tokens;
  metrics.audio_seconds = copy.audio_seconds;
  ev->on_metrics(metrics);
}
void voice_error(concierge_voice_events* e, concierge_str message, std::int32_t fatal) {
  if (auto* ev = live(e)) ev->on_error(view(message), fatal != 0);
}

// ---- HTTP client ----

std::uint64_t host_http_start(concierge_host* h, const concierge_http_client_request* r, concierge_http_done done,
                              void* user) {
  if (!h || !r || !done || !h->open.load()) return 0;
  // Only what the plugin's struct_size covers: a 1.0/1.1 plugin's request ends before `flags` (C ABI 1.2), which
  // stays 0 here, so its requests are ordinary ones as they always were.
  concierge_http_client_request c{};
  std::memcpy(&c, r, std::min<std::size_t>(sizeof c, r->struct_size));
  const bool teardown = r->struct_size >= offsetof(concierge_http_client_request, flags) + sizeof c.flags &&
                        (c.flags & CONCIERGE_HTTP_TEARDOWN) != 0;
  HttpClientRequest request;
  if (c.method.len) request.method = std::string(view(c.method));
  request.url = std::string(view(c.url));
  for (std::size_t i = 0; i < c.header_count; ++i)
    request.headers.emplace_back(std::string(view(c.headers[i].name)), std::string(view(c.headers[i].value)));
  request.body = std::string(view(c.body));
  request.username = std::string(view(c.username));
  request.password = std::string(view(c.password));
  if (c.timeout_ms) request.timeout = std::chrono::milliseconds(c.timeout_ms);
  if (c.connect_timeout_ms) request.connect_timeout = std::chrono::milliseconds(c.connect_timeout_ms);
  if (c.max_response_bytes) request.max_response_bytes = c.max_response_bytes;
  request.ca_file = std::string(view(c.ca_file));
  auto id = std::make_shared<HttpRequestId>(0);
  auto completion = [self = h->self.lock(), id, done, user, token = std::make_shared<PendingToken>()](
                        const HttpClientResponse& response) {
    self->http_requests.erase(*id);
    if (!self->open.load()) return;
    const concierge_http_client_response out{sizeof(concierge_http_client_response),
                                             static_cast<std::int32_t>(response.status),
                                             str(response.body),
                                             str(response.content_type),
                                             str(response.error),
                                             response.timed_out ? 1 : 0,
                                             static_cast<std::uint64_t>(response.elapsed.count())};
    done(user, &out);
  };
  // A teardown may use the share of the client's cap kept for hang-ups (HttpClient::start_teardown, SDK 1.6).
  *id = teardown ? h->services.http().start_teardown(std::move(request), std::move(completion))
                 : h->services.http().start(std::move(request), std::move(completion));
  h->http_requests.insert(*id);
  return *id;
}

void host_http_cancel(concierge_host* h, std::uint64_t id) {
  if (h && h->http_requests.erase(id)) h->services.http().cancel(id);
}

// ---- WebSocket client ----

std::string text(concierge_str s, std::string fallback = {}) { return s.len ? std::string(view(s)) : fallback; }

concierge_ws_client* host_ws_client_open(concierge_host* h, const concierge_ws_client_options* o,
                                         const concierge_ws_client_listener* listener, void* user,
                                         concierge_error* error) {
  if (!h || !o || !listener || !h->open.load()) {
    concierge_error_set(error, CONCIERGE_E_INVALID, nullptr, "ws_client_open: missing options or listener");
    return nullptr;
  }
  concierge_ws_client_options c{};
  std::memcpy(&c, o, std::min<std::size_t>(sizeof c, o->struct_size));
  net::WebSocketClientOptions options;
  options.tls = c.tls != 0;
  options.host = text(c.host);
  options.port = text(c.port, options.tls ? "443" : "80");
  options.target = text(c.target, "/");
  options.host_header = text(c.host_header);
  for (std::size_t i = 0; i < c.header_count; ++i)
    options.headers.emplace_back(text(c.headers[i].name), text(c.headers[i].value));
  if (c.connect_timeout_ms) options.connect_timeout = std::chrono::seconds((c.connect_timeout_ms + 999) / 1000);
  if (c.idle_timeout_ms) options.idle_timeout = std::chrono::seconds((c.idle_timeout_ms + 999) / 1000);
  if (c.max_message_bytes) options.max_message_bytes = c.max_message_bytes;
  options.peer_name = text(c.peer_name, options.peer_name);
  auto client = std::make_unique<concierge_ws_client>();
  // Only what the plugin's struct_size covers: a 1.0-1.2 listener ends before on_refused (C ABI 1.3), which stays
  // NULL here, so its refusals come as the SDK's default sentence alone, as they always did.
  std::memcpy(&client->listener, listener, std::min<std::size_t>(sizeof client->listener, listener->struct_size));
  client->user = user;
  client->host = h;
  if (client->listener.on_refused) {
    // The SDK's client words a refusal through this hook, just before it fails: keep the status and detail for
    // on_refused, and word the sentence exactly as the SDK's default does (net::WebSocketClientOptions), which is
    // what on_failed has always said and what a 1.0-1.2 C++ layer reads the status back from.
    client->refusal = std::make_shared<WsRefusal>();
    options.describe_refusal = [refusal = client->refusal, peer = options.peer_name](unsigned status,
                                                                                     const std::string& detail) {
      refusal->status = status;
      refusal->detail = detail;
      return peer + " refused the WebSocket upgrade (HTTP " + std::to_string(status) +
             (detail.empty() ? "" : ": " + detail) + ")";
    };
  }
  std::shared_ptr<boost::asio::ssl::context> tls;  // the CA file's context, once loaded
  if (options.tls) {
    const std::string ca_file = text(c.ca_file);
    const auto known = h->tls_contexts.find(ca_file);
    if (known != h->tls_contexts.end()) {
      tls = known->second;
    } else {  // the CA file is loaded off the loop first (concierge_host::tls_waiting)
      client->waiting = std::make_unique<net::WebSocketClientOptions>(std::move(options));
      client->ca_file = ca_file;
      h->tls_waiting[ca_file].push_back(client.get());
      h->load_tls_context(ca_file);  // unless a worker is loading it already
      h->ws_clients.insert(client.get());
      return client.release();
    }
  }
  try {
    client->client = net::WebSocketClient::create(h->io, std::move(tls), std::move(options));
  } catch (const std::exception& e) {
    concierge_error_set(error, CONCIERGE_E_INVALID, nullptr, e.what());
    return nullptr;
  }
  client->client->start(client.get());
  h->ws_clients.insert(client.get());
  return client.release();
}

std::int32_t host_ws_client_send(concierge_ws_client* c, concierge_str message) {
  return c && c->client && c->client->send(view(message)) ? 1 : 0;  // no client yet: still loading its CA file
}
std::size_t host_ws_client_queued(concierge_ws_client* c) { return c && c->client ? c->client->queued_messages() : 0; }
void host_ws_client_close(concierge_ws_client* c) {
  if (c) c->host->close_ws_client(c);
}

// C ABI 1.3. A plugin's PEM bundle is read here, on the loop (create(), at start-up: a few certificates load in well
// under a millisecond, and the plugin can refuse its config at once); the system's store (28-59 ms) on a worker.
std::int32_t host_ws_client_prepare_tls(concierge_host* h, concierge_str ca_file_text, concierge_error* error) {
  if (!h || !h->open.load()) {
    concierge_error_set(error, CONCIERGE_E_STATE, nullptr, "ws_client_prepare_tls: the instance is closing");
    return CONCIERGE_E_STATE;
  }
  const std::string ca_file = text(ca_file_text);
  if (h->tls_contexts.count(ca_file)) return CONCIERGE_OK;
  if (ca_file.empty()) {
    h->load_tls_context(ca_file);  // unless a worker is loading it already
    return CONCIERGE_OK;
  }
  try {
    h->tls_contexts.emplace(ca_file, net::make_tls_client_context(ca_file));
  } catch (const std::exception& e) {
    concierge_error_set(error, CONCIERGE_E_INVALID, nullptr, e.what());
    return CONCIERGE_E_INVALID;
  }
  return CONCIERGE_OK;
}

const concierge_host_api kHostApi = {
    sizeof(concierge_host_api),
    CONCIERGE_ABI_MAJOR,
    CONCIERGE_ABI_MINOR,
    host_log,
    host_log_enabled,
    host_metric_add,
    host_metric_set,
    host_post,
    host_timer_start,
    host_timer_cancel,
    host_run_blocking,
    host_public_domain,
    host_accept_inbound_call,
    call_provider_call_id,
    call_status,
    call_media_started,
    call_audio,
    call_playback_progress,
    call_dtmf,
    call_media_stopped,
    call_simulated_callee_text,
    voice_ready,
    voice_audio,
    voice_speech_started,
    voice_speech_stopped,
    voice_interruption,
    voice_transcript,
    voice_tool_call,
    voice_metrics,
    voice_error,
    response_set_status,
    response_set_content_type,
    response_add_header,
    response_append_body,
    ws_peer_send_text,
    ws_peer_close,
    ws_peer_is_open,
    ws_peer_upgrade_request,
    host_http_start,
    host_http_cancel,
    host_ws_client_open,
    host_ws_client_send,
    host_ws_client_queued,
    host_ws_client_close,
    // C ABI 1.1
    call_late_status,
    call_events_retain,
    call_events_release,
    // C ABI 1.3
    host_ws_client_prepare_tls,
};

// ---- the instance and its adapters ----

// One C plugin instance. Sessions hold it, so the plugin's destroy() runs after the last of them is gone.
struct Instance {
  std::shared_ptr<concierge_host> host;
  Descriptor descriptor;
  concierge_instance* handle = nullptr;
  ~Instance() {
    host->close();
    if (handle) descriptor.destroy(handle);
    host->drop_call_events();  // what the plugin still retained (its destroy may have released some)
  }
};

class CVoiceSession final : public VoiceSession {
 public:
  CVoiceSession(std::shared_ptr<Instance> instance, std::shared_ptr<VoiceSessionEvents> events)
      : send_audio_(instance->descriptor.voice.session_send_audio),
        instance_(std::move(instance)),
        api_(instance_->descriptor.voice) {
    events_.events = std::move(events);
    events_.host = instance_->host.get();
  }
  // Calls the plugin's open_session with this adapter's events; false with `error` filled when it refused.
  bool open(const concierge_voice_session_config& config, concierge_error& error) {
    handle_ = api_.open_session(instance_->handle, &config, &events_, &error);
    if (!handle_) return false;
    AudioFormat format;
    const concierge_audio_format in = api_.session_input_format(handle_), out = api_.session_output_format(handle_);
    input_ = from_c(in.encoding, in.rate, format) ? format : AudioFormat{};
    output_ = from_c(out.encoding, out.rate, format) ? format : AudioFormat{};
    return true;
  }
  ~CVoiceSession() override {
    if (handle_) api_.session_destroy(handle_);  // events_ stays valid until this has returned (abi.h)
  }
  AudioFormat input_format() const override { return input_; }
  AudioFormat output_format() const override { return output_; }
  void send_audio(const AudioFrame& frame) override {
    const concierge_frame c{frame.bytes.data(), frame.bytes.size(),
                            static_cast<std::uint32_t>(frame.format.encoding), frame.format.sample_rate, 1,
                            frame.timestamp_us};
    send_audio_(handle_, &c);
  }
  void send_tool_result(const ToolCall& call, const ToolResult& result) override {
    const std::string output = result.output.dump();
    api_.session_tool_result(handle_, str(call.id), str(call.name), str(output), result.end_call ? 1 : 0);
  }
  void on_playback_progress(std::chrono::microseconds played) override {
    if (api_.session_playback_progress) api_.session_playback_progress(handle_, played.count());
  }
  void on_simulated_callee_text(std::string_view text) override {
    if (api_.session_simulated_callee_text) api_.session_simulated_callee_text(handle_, str(text));
  }
  void on_line_event(const LineEvent& event) override {
    if (closed_ || !api_.session_line_event) return;  // C ABI 1.1, Optional: a 1.0 plugin's table has none
    const concierge_line_event c = to_c(event);
    api_.session_line_event(handle_, &c);
  }
  void close() override {
    if (closed_) return;
    closed_ = true;
    api_.session_close(handle_);
    events_.events.reset();  // no event after close
  }

 private:
  // What a frame touches each way, together beside the vtable pointer: the plugin's handle and send function, and
  // the events handle the plugin answers through (abi.h's concierge_voice_events, owned here).
  concierge_voice_session* handle_ = nullptr;
  void (*send_audio_)(concierge_voice_session*, const concierge_frame*);
  concierge_voice_events events_;
  std::shared_ptr<Instance> instance_;
  const concierge_voice_model_api& api_;
  AudioFormat input_, output_;
  bool closed_ = false;
};

class CVoiceModel final : public VoiceModel {
 public:
  explicit CVoiceModel(std::shared_ptr<Instance> instance) : instance_(std::move(instance)) {}
  std::shared_ptr<VoiceSession> open_session(const VoiceSessionConfig& config,
                                             std::shared_ptr<VoiceSessionEvents> events) override {
    nlohmann::json tools = nlohmann::json::array();
    for (const auto& tool : config.tools)
      tools.push_back({{"name", tool.name}, {"description", tool.description}, {"parameters", tool.parameters}});
    const std::string tools_json = tools.dump(), task_json = config.task.dump();
    const concierge_voice_session_config c{sizeof(concierge_voice_session_config), str(config.call_id),
                                           str(config.instructions), str(tools_json), str(task_json),
                                           to_c(config.line_format)};
    char message[512] = "", key_path[8] = "";
    concierge_error error{sizeof error, CONCIERGE_OK, message, sizeof message, key_path, sizeof key_path, 0};
    auto session = std::make_shared<CVoiceSession>(instance_, std::move(events));
    if (!session->open(c, error))
      throw std::runtime_error(instance_->descriptor.name + " could not open a voice session: " +
                               (message[0] ? message : "no reason given"));
    return session;
  }

 private:
  std::shared_ptr<Instance> instance_;
};

// ---- agents ----

// A sink that appends to `out` (abi.h's concierge_text_sink), valid while `out` is.
concierge_text_sink sink_into(std::string& out) {
  return concierge_text_sink{&out, [](void* ctx, const char* ptr, std::size_t len) {
                               static_cast<std::string*>(ctx)->append(ptr, len);
                             }};
}

nlohmann::json parse_or(const std::string& text, nlohmann::json fallback) {
  nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
  return value.is_discarded() ? fallback : value;
}

std::string text_of(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
nlohmann::json object_of(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : nlohmann::json::object();
}

nlohmann::json plan_to_json(const TaskPlan& plan) {
  return {{"ready", plan.ready},         {"question", plan.question}, {"callee_name", plan.callee_name},
          {"phone_number", plan.phone_number}, {"summary", plan.summary}, {"details", plan.details},
          {"reading", plan.reading}};
}

class CAgentSession final : public AgentSession {
 public:
  CAgentSession(std::shared_ptr<Instance> instance, concierge_agent_session* handle)
      : instance_(std::move(instance)), handle_(handle), api_(instance_->descriptor.agent) {}
  ~CAgentSession() override { api_.session_destroy(handle_); }
  std::string instructions() const override {
    std::string out;
    auto sink = sink_into(out);
    api_.session_instructions(handle_, &sink);
    return out;
  }
  std::vector<ToolDefinition> tools() const override {
    std::string out;
    auto sink = sink_into(out);
    api_.session_tools(handle_, &sink);
    std::vector<ToolDefinition> tools;
    for (const auto& tool : parse_or(out, nlohmann::json::array()))
      if (tool.is_object())
        tools.push_back({text_of(tool, "name"), text_of(tool, "description"), object_of(tool, "parameters")});
    return tools;
  }
  ToolResult on_tool_call(const ToolCall& call) override {
    const std::string arguments = call.arguments.dump();
    std::string out;
    auto sink = sink_into(out);
    std::int32_t end_call = 0;
    const std::int32_t status = api_.session_tool_call(handle_, str(call.id), str(call.name), str(arguments), &sink,
                                                       &end_call);
    ToolResult result;
    result.output = status == CONCIERGE_OK ? parse_or(out, nlohmann::json::object())
                                           : nlohmann::json{{"ok", false}, {"error", "the agent failed this tool"}};
    result.end_call = end_call != 0;
    return result;
  }
  void on_transcript(const TranscriptEntry& entry) override {
    const auto at = std::chrono::duration_cast<std::chrono::microseconds>(entry.at.time_since_epoch()).count();
    api_.session_transcript(handle_, static_cast<std::int32_t>(entry.speaker), str(entry.text), at);
  }
  // C ABI 1.1, both Optional: a 1.0 agent's table has neither, and neither listens nor answers.
  bool listens_for_beep() const override {
    return api_.session_listens_for_beep && api_.session_listens_for_beep(handle_) != 0;
  }
  std::string on_line_event(const LineEvent& event) override {
    if (!api_.session_line_event) return {};
    LineEvent to_agent = event;  // the agent is never given a note (it writes one)
    to_agent.note = {};
    to_agent.respond_now = false;
    const concierge_line_event c = to_c(to_agent);
    std::string note;
    auto sink = sink_into(note);
    api_.session_line_event(handle_, &c, &sink);
    return note;
  }
  Outcome outcome() const override {
    std::string out;
    auto sink = sink_into(out);
    api_.session_outcome(handle_, &sink);
    const nlohmann::json j = parse_or(out, nlohmann::json::object());
    Outcome outcome;
    outcome.success = j.value("success", false);
    outcome.confirmation_number = text_of(j, "confirmation_number");
    outcome.failure_reason = text_of(j, "failure_reason");
    outcome.details = object_of(j, "details");
    return outcome;
  }

 private:
  std::shared_ptr<Instance> instance_;
  concierge_agent_session* handle_;
  const concierge_agent_api& api_;
};

class CAgent final : public Agent {
 public:
  explicit CAgent(std::shared_ptr<Instance> instance) : instance_(std::move(instance)) {}
  TaskPlan plan(const TaskRequest& request) const override {
    const std::string request_json = nlohmann::json{{"text", request.text}, {"fields", request.fields}}.dump();
    std::string out;
    auto sink = sink_into(out);
    char message[512] = "", key_path[8] = "";
    concierge_error error{sizeof error, CONCIERGE_OK, message, sizeof message, key_path, sizeof key_path, 0};
    if (instance_->descriptor.agent.plan(instance_->handle, str(request_json), &sink, &error) != CONCIERGE_OK)
      throw std::runtime_error(instance_->descriptor.name + " could not plan: " +
                               (message[0] ? message : "no reason given"));
    const nlohmann::json j = parse_or(out, nlohmann::json::object());
    TaskPlan plan;
    plan.ready = j.value("ready", false);
    plan.question = text_of(j, "question");
    plan.callee_name = text_of(j, "callee_name");
    plan.phone_number = text_of(j, "phone_number");
    plan.summary = text_of(j, "summary");
    plan.details = object_of(j, "details");
    plan.reading = object_of(j, "reading");
    return plan;
  }
  std::unique_ptr<AgentSession> open_session(const TaskPlan& plan) const override {
    const std::string plan_json = plan_to_json(plan).dump();
    char message[512] = "", key_path[8] = "";
    concierge_error error{sizeof error, CONCIERGE_OK, message, sizeof message, key_path, sizeof key_path, 0};
    concierge_agent_session* handle =
        instance_->descriptor.agent.open_session(instance_->handle, str(plan_json), &error);
    if (!handle)
      throw std::runtime_error(instance_->descriptor.name + " could not open an agent session: " +
                               (message[0] ? message : "no reason given"));
    return std::make_unique<CAgentSession>(instance_, handle);
  }

 private:
  std::shared_ptr<Instance> instance_;
};

// ---- telephony ----

// One call's leg, over the plugin's concierge_call_leg. Holds the instance (so the library) and one reference to the
// call's events, which the plugin reports through until leg_destroy (and longer where it retained them).
class CCallLeg final : public CallLeg {
 public:
  CCallLeg(std::shared_ptr<Instance> instance, concierge_call_events* events)
      : send_audio_(instance->descriptor.telephony.leg_send_audio),
        instance_(std::move(instance)),
        api_(instance_->descriptor.telephony),
        events_(events) {}
  ~CCallLeg() override {
    if (handle_) api_.leg_destroy(handle_);  // events_ stays valid until this has returned (abi.h)
    release_call_events(events_);
  }
  void adopt(concierge_call_leg* handle) { handle_ = handle; }
  void disown() { handle_ = nullptr; }
  concierge_call_events* events() const { return events_; }
  void send_audio(const AudioFrame& frame) override {
    const concierge_frame c{frame.bytes.data(), frame.bytes.size(),
                            static_cast<std::uint32_t>(frame.format.encoding), frame.format.sample_rate, 1,
                            frame.timestamp_us};
    send_audio_(handle_, &c);
  }
  void clear_audio() override { api_.leg_clear_audio(handle_); }
  void hang_up() override { api_.leg_hang_up(handle_); }
  void on_simulated_agent_text(std::string_view text) override {
    if (api_.leg_simulated_agent_text) api_.leg_simulated_agent_text(handle_, str(text));
  }

 private:
  // What a frame touches, beside the vtable pointer.
  concierge_call_leg* handle_ = nullptr;
  void (*send_audio_)(concierge_call_leg*, const concierge_frame*);
  std::shared_ptr<Instance> instance_;
  const concierge_telephony_api& api_;
  concierge_call_events* events_;
};

// What the plugin gave for an accepted media stream; owns the peer's C handle.
class CWebSocketHandler final : public WebSocketHandler {
 public:
  CWebSocketHandler(std::shared_ptr<Instance> instance, std::unique_ptr<PeerBox> peer, concierge_ws_handler* handle)
      : instance_(std::move(instance)), api_(instance_->descriptor.telephony), peer_(std::move(peer)),
        handle_(handle) {}
  ~CWebSocketHandler() override {
    api_.ws_handler_destroy(handle_);  // then the peer handle goes
    peer_boxes().erase(handle_of(*peer_));
  }
  void on_text(std::string_view message) override { api_.ws_handler_on_text(handle_, str(message)); }
  void on_closed(std::string_view reason) override { api_.ws_handler_on_closed(handle_, str(reason)); }

 private:
  std::shared_ptr<Instance> instance_;
  const concierge_telephony_api& api_;
  std::unique_ptr<PeerBox> peer_;
  concierge_ws_handler* handle_;
};

class CTelephonyProvider final : public TelephonyProvider {
 public:
  explicit CTelephonyProvider(std::shared_ptr<Instance> instance)
      : instance_(std::move(instance)), api_(instance_->descriptor.telephony) {
    if (api_.http_route_count && api_.http_route)
      for (std::size_t i = 0, n = api_.http_route_count(instance_->handle); i < n; ++i)
        if (const concierge_str route = api_.http_route(instance_->handle, i); route.len)
          routes_.emplace_back(view(route));
  }
  std::shared_ptr<CallLeg> place_call(const OutboundCall& call, std::shared_ptr<CallEvents> events) override {
    CallEvents& report = *events;
    auto leg = std::make_shared<CCallLeg>(instance_, new_call_events(instance_->host.get(), std::move(events)));
    const concierge_outbound_call c{sizeof(concierge_outbound_call), str(call.call_id), str(call.to),
                                    str(call.callee_name), static_cast<std::uint32_t>(call.ring_timeout.count())};
    char message[512] = "", key_path[8] = "";
    concierge_error error{sizeof error, CONCIERGE_OK, message, sizeof message, key_path, sizeof key_path, 0};
    concierge_call_leg* handle = api_.place_call(instance_->handle, &c, leg->events(), &error);
    if (!handle) {
      report.on_status({CallStatus::failed, std::string("the telephony plugin could not place the call: ") +
                                                (message[0] ? message : "no reason given"),
                        std::nullopt, ""});
      return nullptr;
    }
    leg->adopt(handle);
    return leg;
  }
  std::vector<std::string> http_routes() const override { return routes_; }
  HttpResponse handle_http(const HttpRequest& request) override {
    if (!api_.handle_http) return HttpResponse::json_error(404, "not found");
    const CRequest c(request);
    concierge_http_response_writer writer;
    api_.handle_http(instance_->handle, &c.c, &writer);
    return std::move(writer.response);
  }
  std::optional<HttpResponse> check_media_stream_upgrade(const HttpRequest& upgrade) override {
    if (!api_.check_media_stream_upgrade)
      return HttpResponse::json_error(404, "this telephony provider has no media streams");
    const CRequest c(upgrade);
    concierge_http_response_writer writer;
    if (api_.check_media_stream_upgrade(instance_->handle, &c.c, &writer)) return std::nullopt;
    return std::move(writer.response);
  }
  std::shared_ptr<WebSocketHandler> open_media_stream(std::shared_ptr<WebSocketPeer> peer) override {
    if (!api_.open_media_stream) return nullptr;
    auto box = std::make_unique<PeerBox>(std::move(peer));
    concierge_ws_peer* c_peer = handle_of(*box);
    if (!peer_boxes().emplace(c_peer, box.get()).second) return nullptr;  // that peer is open already
    concierge_ws_handler* handle = api_.open_media_stream(instance_->handle, c_peer);
    if (!handle) {
      peer_boxes().erase(c_peer);
      return nullptr;
    }
    return std::make_shared<CWebSocketHandler>(instance_, std::move(box), handle);
  }
  std::string check_destination(std::string_view number) const override {
    if (!api_.check_destination) return "";
    std::string reason;
    auto sink = sink_into(reason);
    if (api_.check_destination(instance_->handle, str(number), &sink)) return "";
    return reason.empty() ? "the telephony plugin does not dial this number" : reason;
  }

 private:
  std::shared_ptr<Instance> instance_;
  const concierge_telephony_api& api_;
  std::vector<std::string> routes_;
};

concierge_call_events* host_accept_inbound_call(concierge_host* h, const concierge_inbound_call* call,
                                                concierge_call_leg* handle) {
  if (!h || !call || !handle || !h->open.load()) return nullptr;
  const auto instance = std::static_pointer_cast<Instance>(h->instance.lock());
  if (!instance) return nullptr;  // still being created: no inbound call yet
  concierge_inbound_call c{};
  std::memcpy(&c, call, std::min<std::size_t>(sizeof c, call->struct_size));
  auto leg = std::make_shared<CCallLeg>(instance, new_call_events(h, nullptr));
  leg->adopt(handle);
  InboundCall inbound{std::string(view(c.from)), std::string(view(c.to)), std::string(view(c.provider_call_id)), leg};
  std::shared_ptr<CallEvents> events = h->services.accept_inbound_call(inbound);
  if (!events) {
    leg->disown();  // refused: the leg stays the plugin's (abi.h)
    return nullptr;
  }
  concierge_call_events* e = leg->events();
  e->events = events.get();
  e->events_owner = std::move(events);
  return e;
}

// ---- config ----

bool plain_scalar_is_json(const std::string& s, std::string& json) {
  static const std::regex number(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
  if (s == "true" || s == "True" || s == "TRUE") return json = "true", true;
  if (s == "false" || s == "False" || s == "FALSE") return json = "false", true;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return json = "null", true;
  if (std::regex_match(s, number)) return json = s, true;
  return false;
}

nlohmann::json to_json(const YAML::Node& node, const std::string& path, std::vector<ConfigPosition>& positions) {
  if (!node.IsDefined() || node.IsNull()) return nullptr;
  const auto mark = node.Mark();
  positions.push_back({path, static_cast<std::uint32_t>(mark.line >= 0 ? mark.line + 1 : 0),
                       static_cast<std::uint32_t>(mark.column >= 0 ? mark.column + 1 : 0)});
  if (node.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      const std::string child = path.empty() ? key : path + "." + key;
      if (!entry.second.IsDefined() || entry.second.IsNull()) {
        const auto key_mark = entry.first.Mark();
        positions.push_back({child, static_cast<std::uint32_t>(key_mark.line + 1),
                             static_cast<std::uint32_t>(key_mark.column + 1)});
      }
      out[key] = to_json(entry.second, child, positions);
    }
    return out;
  }
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    std::size_t i = 0;
    for (const auto& item : node) out.push_back(to_json(item, path + "[" + std::to_string(i++) + "]", positions));
    return out;
  }
  std::string json;
  if (node.Tag() != "!" && plain_scalar_is_json(node.Scalar(), json)) return nlohmann::json::parse(json);
  return node.Scalar();
}

std::uint32_t line_of(const std::vector<ConfigPosition>& positions, std::string key) {
  while (true) {
    for (const auto& p : positions)
      if (p.key_path == key) return p.line;
    const auto cut = key.find_last_of(".[");
    if (cut == std::string::npos || cut == 0) return 0;
    key.erase(cut);
  }
}

PluginKind kind_of(std::uint32_t kind) { return static_cast<PluginKind>(kind); }

// How large each table is in each minor (abi.h's HISTORY): a plugin of that minor must give at least this much, and
// the host reads no further, whatever its struct_size says.
std::size_t voice_table_size(std::uint32_t minor) {
  return minor >= 1 ? sizeof(concierge_voice_model_api) : offsetof(concierge_voice_model_api, session_line_event);
}
std::size_t agent_table_size(std::uint32_t minor) {
  return minor >= 1 ? sizeof(concierge_agent_api) : offsetof(concierge_agent_api, session_listens_for_beep);
}

// The table as far as the plugin's minor defines it (`size`) and its struct_size covers, zero beyond.
template <class Table>
void copy_table(Table& out, const Table* in, std::size_t size) {
  out = Table{};
  if (in) std::memcpy(&out, in, std::min<std::size_t>({sizeof out, size, in->struct_size}));
}

}  // namespace

const concierge_host_api& host_api() { return kHostApi; }

std::size_t pending_callbacks() { return g_pending.load(); }

void render_plugin_metrics(std::string& out) {
  for (const auto& [name, metric] : plugin_metrics()) {
    char value[32];
    std::snprintf(value, sizeof value, "%.17g", metric.value);
    out += "# TYPE " + name + (metric.counter ? " counter\n" : " gauge\n") + name + " " + value + "\n";
  }
}

std::string config_to_json(const YAML::Node& block, const std::string& key_path,
                           std::vector<ConfigPosition>& positions) {
  nlohmann::json json = to_json(block, key_path, positions);
  if (json.is_null()) json = nlohmann::json::object();
  return json.dump();
}

std::string check_descriptor(const concierge_plugin* d, const std::string& expected_name, Descriptor& out) {
  const auto version = [](std::uint32_t major, std::uint32_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
  };
  if (!d) return "refused by the plugin (concierge_plugin_entry returned NULL)";
  // The first four fields never move (abi.h): read them alone before trusting struct_size.
  if (d->magic != CONCIERGE_ABI_MAGIC) return "is not a concierge C plugin (its descriptor's magic is wrong)";
  const std::string theirs = version(d->abi_major, d->abi_minor);
  const std::string ours = version(CONCIERGE_ABI_MAJOR, CONCIERGE_ABI_MINOR);
  if (d->abi_major != CONCIERGE_ABI_MAJOR)
    return "built for C ABI " + theirs + ", this host has C ABI " + ours + "; rebuild the plugin";
  if (d->abi_minor > CONCIERGE_ABI_MINOR)
    return "built for C ABI " + theirs + ", this host has C ABI " + ours +
           "; upgrade the host or rebuild the plugin against C ABI " + ours;
  // Every minor so far (1.0-1.3) defines the whole descriptor; 1.1 grew the voice model and agent tables only, 1.2
  // the HTTP client's request (read by its size, host_http_start), 1.3 the WebSocket client's listener (read by its
  // size, host_ws_client_open) and the host's own table.
  if (d->struct_size < sizeof(concierge_plugin))
    return "its descriptor is " + std::to_string(d->struct_size) + " bytes, C ABI " + theirs + " defines " +
           std::to_string(sizeof(concierge_plugin)) + "; rebuild the plugin";
  concierge_plugin copy{};
  std::memcpy(&copy, d, sizeof copy);
  out.abi_major = copy.abi_major;
  out.abi_minor = copy.abi_minor;
  if (copy.kind < CONCIERGE_KIND_TELEPHONY || copy.kind > CONCIERGE_KIND_AGENT)
    return "declares an unknown plugin kind " + std::to_string(copy.kind);
  out.kind = kind_of(copy.kind);
  if (!copy.name || copy.name != expected_name)
    return "declares the plugin name \"" + std::string(copy.name ? copy.name : "") +
           "\"; a plugin's file must be <its name>.so";
  out.name = copy.name;
  out.version = copy.version ? copy.version : "";
  out.description = copy.description ? copy.description : "";
  if (!copy.create || !copy.destroy) return "its descriptor has no create or destroy function";
  out.create = copy.create;
  out.destroy = copy.destroy;
  switch (out.kind) {
    case PluginKind::voice_model: {
      if (!copy.voice_model) return "is a voice_model plugin without a voice model table";
      const std::size_t size = voice_table_size(copy.abi_minor);
      if (copy.voice_model->struct_size < size)
        return "its voice model table is " + std::to_string(copy.voice_model->struct_size) + " bytes, C ABI " +
               theirs + " defines " + std::to_string(size) + "; rebuild the plugin";
      copy_table(out.voice, copy.voice_model, size);
      const auto& v = out.voice;
      if (!v.open_session || !v.session_input_format || !v.session_output_format || !v.session_send_audio ||
          !v.session_tool_result || !v.session_close || !v.session_destroy)
        return "its voice model table lacks a required function";
      break;
    }
    case PluginKind::agent: {
      if (!copy.agent) return "is an agent plugin without an agent table";
      const std::size_t size = agent_table_size(copy.abi_minor);
      if (copy.agent->struct_size < size)
        return "its agent table is " + std::to_string(copy.agent->struct_size) + " bytes, C ABI " + theirs +
               " defines " + std::to_string(size) + "; rebuild the plugin";
      copy_table(out.agent, copy.agent, size);
      const auto& a = out.agent;
      if (!a.plan || !a.open_session || !a.session_instructions || !a.session_tools || !a.session_tool_call ||
          !a.session_transcript || !a.session_outcome || !a.session_destroy)
        return "its agent table lacks a required function";
      break;
    }
    case PluginKind::telephony: {
      if (!copy.telephony) return "is a telephony plugin without a telephony table";
      if (copy.telephony->struct_size < sizeof(concierge_telephony_api))
        return "its telephony table is " + std::to_string(copy.telephony->struct_size) + " bytes, C ABI " + theirs +
               " defines " + std::to_string(sizeof(concierge_telephony_api)) + "; rebuild the plugin";
      copy_table(out.telephony, copy.telephony, sizeof(concierge_telephony_api));  // unchanged since 1.0
      const auto& t = out.telephony;
      if (!t.place_call || !t.leg_send_audio || !t.leg_clear_audio || !t.leg_hang_up || !t.leg_destroy)
        return "its telephony table lacks a required function";
      if (t.http_route_count && (!t.http_route || !t.handle_http))
        return "its telephony table has HTTP routes without http_route and handle_http";
      if (t.check_media_stream_upgrade &&
          (!t.open_media_stream || !t.ws_handler_on_text || !t.ws_handler_on_closed || !t.ws_handler_destroy))
        return "its telephony table accepts media streams without open_media_stream and the ws_handler functions";
      break;
    }
  }
  return "";
}

PluginInstance create_instance(const Descriptor& descriptor, std::shared_ptr<const void> library,
                               const PluginContext& context, const YAML::Node& config,
                               const std::string& config_key_path, const std::filesystem::path& config_file,
                               const std::filesystem::path& file) {
  auto host = std::make_shared<concierge_host>(std::move(library), context.host, context.log, descriptor.name);
  host->self = host;
  std::vector<ConfigPosition> positions;
  const std::string json = config_to_json(config, config_key_path, positions);
  std::vector<concierge_config_position> c_positions;
  c_positions.reserve(positions.size());
  for (const auto& p : positions) c_positions.push_back({str(p.key_path), p.line, p.column});
  const std::string file_text = config_file.string(), dir_text = context.config_dir.string();
  const concierge_config c{sizeof(concierge_config), str(json),          str(config_key_path),
                           str(file_text),           str(dir_text),      c_positions.data(),
                           c_positions.size()};
  char message[1024] = "", key_path[512] = "";
  concierge_error error{sizeof error, CONCIERGE_OK, message, sizeof message, key_path, sizeof key_path, 0};
  auto instance = std::make_shared<Instance>();
  instance->host = host;
  instance->descriptor = descriptor;
  instance->handle = descriptor.create(host.get(), &c, &error);
  if (!instance->handle) {
    const std::string why = message[0] ? message : "no reason given";
    if (error.code == CONCIERGE_E_CONFIG) {
      std::string key = key_path;
      if (!config_key_path.empty() && key.rfind(config_key_path, 0) != 0)
        key = key.empty() ? config_key_path : config_key_path + "." + key;
      const std::uint32_t line = error.line ? error.line : line_of(positions, key);
      std::string text = config_file.empty() ? std::string() : config_file.string() + ": ";
      text += key.empty() ? descriptor.name : key;
      if (line > 0) text += " (line " + std::to_string(line) + ")";
      throw PluginLoadError(text + ": " + why);
    }
    throw PluginLoadError(file.string() + ": create() failed: " + why);
  }
  host->instance = instance;  // for the legs of inbound calls (accept_inbound_call)
  PluginInstance made;
  if (descriptor.kind == PluginKind::telephony)
    made.telephony = std::make_shared<CTelephonyProvider>(std::move(instance));
  if (descriptor.kind == PluginKind::voice_model) made.voice_model = std::make_shared<CVoiceModel>(std::move(instance));
  if (descriptor.kind == PluginKind::agent) made.agent = std::make_shared<CAgent>(std::move(instance));
  return made;
}

}  // namespace concierge::host::c_abi
