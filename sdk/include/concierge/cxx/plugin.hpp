#pragma once
// The C++ layer over the C boundary (concierge/abi.h), header-only and compiled into each plugin: a C++ plugin keeps
// writing today's classes (VoiceModel, VoiceSession, VoiceSessionEvents, ConfigNode) and CONCIERGE_CXX_PLUGIN defines
// the one export, concierge_plugin_entry, with trampolines that turn the C tables into those classes and back.
//
// What crosses the boundary is only abi.h's C: the plugin's std::shared_ptr, std::string, nlohmann::json and YAML::Node
// stay on its side (the config block arrives as JSON text and is rebuilt into a YAML::Node here, so ConfigNode and
// plugin_config() read it as before). Every trampoline catches every exception: none unwinds into the host.
//
// THREADS: as abi.h: every trampoline runs on the host's event loop; cxx::Host::post may be called from any thread.
// OWNERSHIP: the plugin's objects are held by the boxes below, which the host destroys through the tables (abi.h's
// destroy functions); the Host object of an instance, and every callback still pending in it, lives until the
// instance is destroyed. Versioned with the C ABI (abi.h), not the SDK; voice models, agents and telephony providers
// (TelephonyProvider, CallLeg, CallEvents, WebSocketPeer/Handler, HttpRequest/Response; C ABI 1.2: hang-ups as
// teardowns through HttpClientOverC::start_teardown). C ABI 1.1: AgentSession::listens_for_beep / on_line_event and VoiceSession::on_line_event (the SDK's line
// events, concierge/line_event.hpp) are mapped, so a plugin on this layer gets them as it would over the C++
// boundary.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "concierge/abi.h"
#include "concierge/agent.hpp"
#include "concierge/config.hpp"
#include "concierge/event_loop.hpp"
#include "concierge/http.hpp"
#include "concierge/http_client.hpp"
#include "concierge/log.hpp"
#include "concierge/telephony.hpp"
#include "concierge/voice_model.hpp"

namespace concierge::cxx {

namespace detail {
struct InstanceBox;
}

// An inbound call the plugin hands the host (a call to our number, a stream the host did not place); see
// Host::accept_inbound_call.
struct InboundCall {
  std::string from;
  std::string to;
  std::string provider_call_id;
  std::shared_ptr<CallLeg> leg;
};

inline std::string_view view(concierge_str s) { return s.len ? std::string_view(s.ptr, s.len) : std::string_view(); }
inline concierge_str str(std::string_view s) { return concierge_str{s.data(), s.size()}; }

// The host's HTTP client (concierge_host_api.http_start / http_cancel) as the SDK's concierge::HttpClient, so C++
// code written against HostServices::http() (a provider's REST calls) reads the same on this layer. Loop thread only.
// OWNERSHIP: keeps each completion until it has run or been cancelled; the host drops what is still pending when the
// instance is destroyed (never calling it), and this object, destroyed with the instance's Host, frees it.
class HttpClientOverC final : public HttpClient {
 public:
  HttpClientOverC(const concierge_host_api* api, concierge_host* host) : api_(api), host_(host) {}
  HttpClientOverC(const HttpClientOverC&) = delete;
  HttpClientOverC& operator=(const HttpClientOverC&) = delete;
  HttpRequestId start(HttpClientRequest request, Completion done) override {
    return begin(std::move(request), std::move(done), 0);
  }
  // C ABI 1.2: sent with CONCIERGE_HTTP_TEARDOWN, so the host admits it from the share it keeps for hang-ups.
  HttpRequestId start_teardown(HttpClientRequest request, Completion done) override {
    return begin(std::move(request), std::move(done), CONCIERGE_HTTP_TEARDOWN);
  }
  void cancel(HttpRequestId id) override {
    if (pending_.erase(id)) api_->http_cancel(host_, id);
  }
  std::size_t in_flight() const override { return pending_.size(); }
  // The instance is going: every completion still pending is destroyed unrun, here, while the Host is whole (a
  // completion's captures may hold plugin objects whose destructors cancel requests or timers; they find none).
  void drop_pending() noexcept {
    auto dropped = std::move(pending_);
    pending_.clear();
  }

 private:
  HttpRequestId begin(HttpClientRequest request, Completion done, std::uint32_t flags) {
    const std::vector<concierge_header> headers = [&] {
      std::vector<concierge_header> out;
      for (const auto& [name, value] : request.headers)
        out.push_back({concierge_str{name.data(), name.size()}, concierge_str{value.data(), value.size()}});
      return out;
    }();
    const auto text = [](const std::string& s) { return concierge_str{s.data(), s.size()}; };
    const concierge_http_client_request c{sizeof(concierge_http_client_request),
                                          text(request.method),
                                          text(request.url),
                                          headers.data(),
                                          headers.size(),
                                          text(request.body),
                                          text(request.username),
                                          text(request.password),
                                          static_cast<std::uint32_t>(request.timeout.count()),
                                          static_cast<std::uint32_t>(request.connect_timeout.count()),
                                          request.max_response_bytes,
                                          text(request.ca_file),
                                          flags};
    auto pending = std::make_unique<Pending>(Pending{this, 0, std::move(done)});
    Pending* raw = pending.get();
    raw->id = api_->http_start(host_, &c, &HttpClientOverC::completed, raw);
    if (!raw->id) return 0;  // the instance is going away: nothing will run
    pending_.emplace(raw->id, std::move(pending));
    return raw->id;
  }
  struct Pending {
    HttpClientOverC* owner;
    HttpRequestId id;
    Completion done;
  };
  static void completed(void* user, const concierge_http_client_response* r) {
    auto* pending = static_cast<Pending*>(user);
    auto& map = pending->owner->pending_;
    const auto it = map.find(pending->id);
    if (it == map.end()) return;
    std::unique_ptr<Pending> owned = std::move(it->second);
    map.erase(it);
    concierge_http_client_response c{};
    std::memcpy(&c, r, std::min<std::size_t>(sizeof c, r->struct_size));
    HttpClientResponse response;
    response.status = c.status;
    response.body.assign(c.body.ptr ? c.body.ptr : "", c.body.len);
    response.content_type.assign(c.content_type.ptr ? c.content_type.ptr : "", c.content_type.len);
    response.error.assign(c.error.ptr ? c.error.ptr : "", c.error.len);
    response.timed_out = c.timed_out != 0;
    response.elapsed = std::chrono::milliseconds(c.elapsed_ms);
    try {
      if (owned->done) owned->done(response);
    } catch (...) {
      // A completion that throws has no one to tell here but the host's log.
      const char line[] = "an HTTP completion threw";
      owned->owner->api_->log(owned->owner->host_, CONCIERGE_LOG_ERROR, concierge_str{line, sizeof line - 1});
    }
  }
  const concierge_host_api* api_;
  concierge_host* host_;
  std::map<HttpRequestId, std::unique_ptr<Pending>> pending_;
};

// The host's services for one plugin instance, over concierge_host_api. Owned by the layer; valid from create until
// the instance is destroyed.
class Host final : public EventLoop {
 public:

  Host(const concierge_host_api* api, concierge_host* host) : api_(api), host_(host), http_(api, host) {}
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;
  // Destroyed by the layer after the plugin's objects, with the host's context already closed (nothing more of it
  // runs). What is still pending (HTTP completions, posted functions, armed timers, blocking jobs) is destroyed unrun
  // HERE, while every member is alive: its captures may hold plugin objects whose destructors cancel a timer, post or
  // cancel a request; those calls find nothing pending and refuse new work (closing_).
  ~Host() {
    std::vector<std::function<void()>> dropped;
    std::vector<std::unique_ptr<Blocking>> jobs;
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
      for (auto& slot : slots_)
        if (slot->in_use) {
          dropped.push_back(std::move(slot->fn));
          release_locked(slot.get());
        }
      for (auto& [raw, job] : blocking_) jobs.push_back(std::move(job));
      blocking_.clear();
    }
    http_.drop_pending();
    dropped.clear();
    jobs.clear();
  }

  // Runs `fn` on the event loop, soon, never inside post. Any thread. False once the instance is going away.
  bool post(std::function<void()> fn) override {
    Pending* pending = add(std::move(fn));
    if (!pending) return false;
    if (api_->post(host_, &Host::run_pending, pending) == CONCIERGE_OK) return true;
    release(pending);
    return false;
  }
  // Runs `fn` once on the loop after `delay` (never early). 0 when the instance is going away.
  TimerId start_timer(std::chrono::microseconds delay, std::function<void()> fn) override {
    Pending* pending = add(std::move(fn));
    if (!pending) return 0;
    const std::uint64_t timer = api_->timer_start(
        host_, delay.count() > 0 ? static_cast<std::uint64_t>(delay.count()) : 0, &Host::run_pending, pending);
    std::lock_guard lock(mutex_);
    if (!timer) {
      release_locked(pending);
      return 0;
    }
    pending->timer = timer;
    return id_of(*pending);
  }
  // `fn` of that timer does not run after this returns. Unknown or fired ids are ignored.
  void cancel_timer(TimerId id) override {
    std::uint64_t timer = 0;
    {
      std::lock_guard lock(mutex_);
      Pending* pending = find_locked(id);
      if (!pending || !pending->timer) return;
      timer = pending->timer;
      release_locked(pending);
    }
    api_->timer_cancel(host_, timer);  // abi.h: its callback is not called after this returns
  }
  // `work` on a host worker thread (it must touch only what it owns), then `done` on the loop.
  bool run_blocking(std::function<void()> work, std::function<void()> done) {
    if (closing()) return false;
    auto* job = new Blocking{std::move(work), std::move(done), this};
    if (api_->run_blocking(host_, &Host::run_blocking_work, &Host::run_blocking_done, job) == CONCIERGE_OK) {
      std::lock_guard lock(mutex_);
      blocking_[job].reset(job);
      return true;
    }
    delete job;
    return false;
  }
  std::string public_domain() const { return std::string(view(api_->public_domain(host_))); }
  // The host's HTTP client (libcurl on its loop): REST calls with no Asio or thread of the plugin's own.
  HttpClient& http() { return http_; }
  // An inbound call (telephony): on acceptance the host takes `call.leg` and returns the events to report through;
  // nullptr when the host refuses inbound calls (the leg stays the plugin's).
  std::shared_ptr<CallEvents> accept_inbound_call(const InboundCall& call);
  void metric_add(std::string_view name, double delta) { api_->metric_add(host_, str(name), delta); }
  void metric_set(std::string_view name, double value) { api_->metric_set(host_, str(name), value); }
  const concierge_host_api* api() const { return api_; }
  concierge_host* handle() const { return host_; }

  // A handle of the host's that the host ends by itself when it destroys the instance (abi.h: it closes every
  // WebSocket client still open, before the plugin's destroy runs). Such an object (cxx::WebSocketClientOverC,
  // concierge/cxx/websocket_client.hpp) attaches while it holds one; the layer's destroy tells each, before freeing
  // anything of the instance, to forget its handle, so a plugin object destroyed later never touches an ended one.
  class Attachment {
   public:
    virtual void host_closing() noexcept = 0;

   protected:
    ~Attachment() = default;
  };
  void attach(Attachment* a) { attachments_.push_back(a); }
  void detach(Attachment* a) {
    attachments_.erase(std::remove(attachments_.begin(), attachments_.end(), a), attachments_.end());
  }
  // The layer's destroy: tells every attachment, once.
  void end_attachments() noexcept {
    for (Attachment* a : std::exchange(attachments_, {})) a->host_closing();
  }

 private:
  // One posted function or armed timer. Slots are recycled, never freed while the Host lives, so that a post or a
  // re-armed timer allocates nothing once the pool has grown to the plugin's peak (a simulator's 20 ms pacing, a
  // voice model's per-frame work). A TimerId names the slot and its generation, so a stale id cancels nothing.
  struct Pending {
    std::function<void()> fn;
    Host* owner = nullptr;
    std::uint64_t timer = 0;  // the host's timer id while armed; 0 for a post
    std::uint32_t index = 0;
    std::uint32_t generation = 0;
    bool in_use = false;
  };
  struct Blocking {
    std::function<void()> work, done;
    Host* owner;
  };
  bool closing() {
    std::lock_guard lock(mutex_);
    return closing_;
  }
  static TimerId id_of(const Pending& pending) {
    return (static_cast<TimerId>(pending.generation) << 32) | (static_cast<TimerId>(pending.index) + 1);
  }
  Pending* find_locked(TimerId id) {
    const std::uint64_t low = id & 0xffffffffu;
    if (low == 0 || low > slots_.size()) return nullptr;
    Pending* pending = slots_[low - 1].get();
    return pending->in_use && pending->generation == static_cast<std::uint32_t>(id >> 32) ? pending : nullptr;
  }
  // A free slot holding `fn`; nullptr (and `fn` destroyed, outside the lock) once the Host is closing.
  Pending* add(std::function<void()> fn) {
    std::unique_lock lock(mutex_);
    if (closing_) {
      lock.unlock();
      return nullptr;
    }
    if (free_.empty()) {  // the pool grows (the only allocations here); release() never needs to
      slots_.push_back(std::make_unique<Pending>());
      slots_.back()->owner = this;
      slots_.back()->index = static_cast<std::uint32_t>(slots_.size() - 1);
      free_.reserve(slots_.capacity());
      free_.push_back(slots_.back().get());
    }
    Pending* pending = free_.back();
    free_.pop_back();
    pending->fn = std::move(fn);
    pending->timer = 0;
    pending->in_use = true;
    return pending;
  }
  // The slot's function is destroyed outside the lock (it may hold the last reference to plugin objects).
  void release(Pending* pending) {
    std::function<void()> fn;
    {
      std::lock_guard lock(mutex_);
      fn = std::move(pending->fn);
      release_locked(pending);
    }
  }
  void release_locked(Pending* pending) {
    pending->fn = nullptr;
    pending->timer = 0;
    pending->in_use = false;
    ++pending->generation;
    free_.push_back(pending);
  }
  // The host calls each posted or armed slot at most once, and never after timer_cancel returned (abi.h), so the
  // slot is still the one armed; in_use guards the contract anyway.
  static void run_pending(void* user) {
    auto* pending = static_cast<Pending*>(user);
    Host* owner = pending->owner;
    std::function<void()> fn;
    {
      std::lock_guard lock(owner->mutex_);
      if (!pending->in_use) return;
      fn = std::move(pending->fn);
      owner->release_locked(pending);
    }
    try {
      fn();
    } catch (const std::exception& e) {
      owner->log_exception(e.what());
    } catch (...) {
      owner->log_exception("an exception that is not a std::exception");
    }
  }
  static void run_blocking_work(void* user) {
    auto* job = static_cast<Blocking*>(user);
    try {
      if (job->work) job->work();
    } catch (...) {
      // The worker thread has no one to tell but the log; the host's log may be called from the loop only, so the
      // loop-side completion says it.
      job->work = nullptr;
      job->done = [owner = job->owner] { owner->log_exception("blocking work threw"); };
    }
  }
  static void run_blocking_done(void* user) {
    auto* job = static_cast<Blocking*>(user);
    std::unique_ptr<Blocking> owned;
    {
      std::lock_guard lock(job->owner->mutex_);
      auto it = job->owner->blocking_.find(job);
      if (it == job->owner->blocking_.end()) return;
      owned = std::move(it->second);
      job->owner->blocking_.erase(it);
    }
    try {
      if (owned->done) owned->done();
    } catch (...) {
      owned->owner->log_exception("a blocking work's completion threw");
    }
  }
  void log_exception(std::string_view what) {
    const std::string line = "uncaught exception in a callback: " + std::string(what);
    api_->log(host_, CONCIERGE_LOG_ERROR, str(line));
  }

  friend struct detail::InstanceBox;
  const concierge_host_api* api_;
  concierge_host* host_;
  detail::InstanceBox* box_ = nullptr;  // the instance this host serves (set by the layer's create)
  HttpClientOverC http_;
  std::mutex mutex_;  // post may be called from any thread
  std::vector<std::unique_ptr<Pending>> slots_;  // every slot; their functions are dropped unrun with the instance
  std::vector<Pending*> free_;
  std::map<Blocking*, std::unique_ptr<Blocking>> blocking_;
  bool closing_ = false;  // set by the destructor (under mutex_): no new work
  std::vector<Attachment*> attachments_;  // loop thread only
};

// Logging through the host (concierge_host_api.log), as the C++ boundary's Logger.
class HostLogger final : public Logger {
 public:
  explicit HostLogger(const Host& host) : api_(host.api()), host_(host.handle()) {}
  void write(LogLevel level, std::string_view message) override {
    api_->log(host_, static_cast<std::int32_t>(level), str(message));
  }
  bool enabled(LogLevel level) const override { return api_->log_enabled(host_, static_cast<std::int32_t>(level)); }

 private:
  const concierge_host_api* api_;
  concierge_host* host_;
};

// What create() gets. Valid during create only (copy what you keep); `host` lives as long as the instance.
struct Context {
  Host& host;
  std::shared_ptr<Logger> log;       // never null; the host prefixes the plugin's name
  std::filesystem::path config_dir;  // the folder of the YAML file, for relative paths
  std::string config_key_path;       // "plugins.voice_model.config"
};

// THE way a plugin reads its block, as with the C++ boundary: errors name the full key path; the host adds the file
// and the line.
inline ConfigNode plugin_config(const Context& context, const YAML::Node& block) {
  return ConfigNode(block.IsDefined() && !block.IsNull() ? block : YAML::Node(YAML::NodeType::Map),
                    context.config_key_path);
}

// What CREATE returns: the member of the plugin's kind (the other empty).
struct Instance {
  std::shared_ptr<VoiceModel> voice_model;
  std::shared_ptr<Agent> agent;
  std::shared_ptr<TelephonyProvider> telephony;
};

namespace detail {

// JSON (as the host sends the block) back into the YAML node ConfigNode reads. Scalars become plain scalars, so
// as<int>() and friends read them as they read the YAML.
inline YAML::Node to_yaml(const nlohmann::json& value) {
  if (value.is_object()) {
    YAML::Node map(YAML::NodeType::Map);
    for (const auto& [key, child] : value.items()) map[key] = to_yaml(child);
    return map;
  }
  if (value.is_array()) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& child : value) list.push_back(to_yaml(child));
    return list;
  }
  if (value.is_null()) return YAML::Node(YAML::NodeType::Null);
  if (value.is_string()) return YAML::Node(value.get<std::string>());
  return YAML::Node(value.dump());  // numbers and booleans as YAML spells them
}

inline concierge_audio_format to_c(AudioFormat format) {
  return concierge_audio_format{static_cast<std::uint32_t>(format.encoding), format.sample_rate, 1};
}

inline void set_error(concierge_error* error, std::int32_t code, const std::string& key_path,
                      const std::string& message) {
  concierge_error_set(error, code, key_path.c_str(), message.c_str());
}

// The host's side of a session, as the VoiceSessionEvents the plugin's session talks to. Detached (every call a
// no-op) when the host destroys the session, since a plugin's session may outlive its box in a pending callback.
class VoiceEventsOverC final : public VoiceSessionEvents {
 public:
  VoiceEventsOverC(const concierge_host_api* api, concierge_voice_events* events)
      : events_(events), voice_audio_(api->voice_audio), api_(api) {}
  void detach() { events_ = nullptr; }
  void on_ready() override {
    if (events_) api_->voice_ready(events_);
  }
  void on_audio(const AudioFrame& frame) override {
    if (!events_) return;
    const concierge_frame c{frame.bytes.data(), frame.bytes.size(), static_cast<std::uint32_t>(frame.format.encoding),
                            frame.format.sample_rate, 1, frame.timestamp_us};
    voice_audio_(events_, &c);
  }
  void on_callee_speech_started() override {
    if (events_) api_->voice_speech_started(events_);
  }
  void on_callee_speech_stopped() override {
    if (events_) api_->voice_speech_stopped(events_);
  }
  void on_interruption() override {
    if (events_) api_->voice_interruption(events_);
  }
  void on_transcript(Speaker speaker, std::string_view text) override {
    if (events_) api_->voice_transcript(events_, static_cast<std::int32_t>(speaker), str(text));
  }
  void on_tool_call(const ToolCall& call) override {
    if (!events_) return;
    const std::string arguments = call.arguments.dump();
    api_->voice_tool_call(events_, str(call.id), str(call.name), str(arguments));
  }
  void on_metrics(const VoiceMetrics& metrics) override {
    if (!events_) return;
    const concierge_voice_metrics c{sizeof(concierge_voice_metrics),
                                    metrics.response_latency ? metrics.response_latency->count() : -1,
                                    metrics.input_tokens, metrics.output_tokens, metrics.audio_seconds};
    api_->voice_metrics(events_, &c);
  }
  void on_error(std::string_view message, bool fatal) override {
    if (events_) api_->voice_error(events_, str(message), fatal ? 1 : 0);
  }

 private:
  // The per-frame path's fields first, beside the vtable pointer.
  concierge_voice_events* events_;
  void (*voice_audio_)(concierge_voice_events*, const concierge_frame*);
  const concierge_host_api* api_;
};

struct InstanceBox {
  std::unique_ptr<Host> host;
  std::shared_ptr<Logger> log;
  Instance instance;
  std::vector<std::string> routes;  // telephony: http_routes(), asked once (the table hands out views of them)
  void serve(Host& h) { h.box_ = this; }
};

// One session. The host's handle is the plugin's VoiceSession itself (the per-frame path then touches no object of
// this layer's: measured, one cache miss less per frame); this box, found from the handle in sessions(), holds what
// the other calls need. The plugin's session holds its events as an aliasing shared_ptr into the box, so the box
// lives while either does.
struct VoiceSessionBox {
  VoiceSessionBox(InstanceBox* owner, const concierge_host_api* api, concierge_voice_events* host_events)
      : instance(owner), events(api, host_events) {}
  InstanceBox* instance;
  VoiceEventsOverC events;
  std::shared_ptr<VoiceSession> session;
};

// The open sessions of this library by handle (loop thread only, like every trampoline).
inline std::map<const void*, std::shared_ptr<VoiceSessionBox>>& sessions() {
  static std::map<const void*, std::shared_ptr<VoiceSessionBox>> open;
  return open;
}

inline InstanceBox* box(concierge_instance* instance) { return reinterpret_cast<InstanceBox*>(instance); }
inline VoiceSessionBox* box(concierge_voice_session* session) {
  const auto it = sessions().find(session);
  return it == sessions().end() ? nullptr : it->second.get();
}

// Runs `body`; an exception is logged through the instance's host (never thrown into the host).
template <class F>
void guarded(InstanceBox* instance, const char* what, F&& body) noexcept {
  try {
    body();
  } catch (const std::exception& e) {
    if (instance) instance->log->error(std::string(what) + " threw: " + e.what());
  } catch (...) {
    if (instance) instance->log->error(std::string(what) + " threw an exception that is not a std::exception");
  }
}

inline const concierge_host_api*& host_api() {
  static const concierge_host_api* api = nullptr;  // hidden: one per plugin library
  return api;
}

using CreateFunction = Instance (*)(const Context&, const YAML::Node&);
inline CreateFunction& create_function() {
  static CreateFunction create = nullptr;
  return create;
}

inline concierge_instance* create(concierge_host* host, const concierge_config* config,
                                  concierge_error* error) noexcept {
  auto instance = std::make_unique<InstanceBox>();
  try {
    instance->host = std::make_unique<Host>(host_api(), host);
    instance->log = std::make_shared<HostLogger>(*instance->host);
    const nlohmann::json json = nlohmann::json::parse(view(config->json));
    const Context context{*instance->host, instance->log, std::filesystem::path(std::string(view(config->dir))),
                          std::string(view(config->key_path))};
    instance->serve(*instance->host);
    instance->instance = create_function()(context, to_yaml(json));
    if (!instance->instance.voice_model && !instance->instance.agent && !instance->instance.telephony) {
      set_error(error, CONCIERGE_E_INTERNAL, "", "create() returned no voice model, agent or telephony provider");
      return nullptr;
    }
    if (instance->instance.telephony) instance->routes = instance->instance.telephony->http_routes();
    return reinterpret_cast<concierge_instance*>(instance.release());
  } catch (const ConfigError& e) {
    // The line is the host's to find: the JSON this node was rebuilt from has no lines of its own.
    set_error(error, CONCIERGE_E_CONFIG, e.key_path(), e.message());
  } catch (const YAML::Exception& e) {
    set_error(error, CONCIERGE_E_CONFIG, std::string(view(config->key_path)), e.msg);
  } catch (const std::exception& e) {
    set_error(error, CONCIERGE_E_INTERNAL, "", e.what());
  } catch (...) {
    set_error(error, CONCIERGE_E_INTERNAL, "", "create() threw an exception that is not a std::exception");
  }
  return nullptr;
}

inline void destroy(concierge_instance* instance) noexcept {
  std::unique_ptr<InstanceBox> owned(box(instance));
  guarded(owned.get(), "destroy", [&] {
    owned->host->end_attachments();
    owned->instance = {};
    owned->host.reset();  // callbacks still pending go with it, unrun (the host dropped them)
  });
}

inline concierge_voice_session* open_session(concierge_instance* instance, const concierge_voice_session_config* c,
                                             concierge_voice_events* events, concierge_error* error) noexcept {
  InstanceBox* owner = box(instance);
  try {
    concierge_voice_session_config config{};
    std::memcpy(&config, c, std::min<std::size_t>(sizeof config, c->struct_size));
    VoiceSessionConfig cpp;
    cpp.call_id = std::string(view(config.call_id));
    cpp.instructions = std::string(view(config.instructions));
    if (config.tools_json.len)
      for (const auto& tool : nlohmann::json::parse(view(config.tools_json)))
        cpp.tools.push_back(ToolDefinition{tool.value("name", ""), tool.value("description", ""),
                                           tool.value("parameters", nlohmann::json::object())});
    if (config.task_json.len) cpp.task = nlohmann::json::parse(view(config.task_json));
    cpp.line_format = AudioFormat{static_cast<AudioEncoding>(config.line_format.encoding), config.line_format.rate};
    auto session = std::make_shared<VoiceSessionBox>(owner, host_api(), events);
    session->session =
        owner->instance.voice_model->open_session(cpp, std::shared_ptr<VoiceSessionEvents>(session, &session->events));
    if (!session->session) {
      session->events.detach();
      set_error(error, CONCIERGE_E_INTERNAL, "", "open_session returned no session");
      return nullptr;
    }
    const void* handle = session->session.get();
    if (!sessions().emplace(handle, session).second) {
      session->events.detach();
      set_error(error, CONCIERGE_E_INTERNAL, "", "open_session returned a session that is already open");
      return nullptr;
    }
    return reinterpret_cast<concierge_voice_session*>(const_cast<void*>(handle));
  } catch (const std::exception& e) {
    set_error(error, CONCIERGE_E_INTERNAL, "", e.what());
  } catch (...) {
    set_error(error, CONCIERGE_E_INTERNAL, "", "open_session threw an exception that is not a std::exception");
  }
  return nullptr;
}

// Calls `body` with the plugin's session (the handle); an exception is logged through the session's instance.
template <class F>
void with_session(concierge_voice_session* s, const char* what, F&& body) noexcept {
  try {
    body(*reinterpret_cast<VoiceSession*>(s));
  } catch (...) {
    VoiceSessionBox* owner = box(s);
    guarded(owner ? owner->instance : nullptr, what, [] { throw; });
  }
}

inline concierge_audio_format session_input_format(concierge_voice_session* s) noexcept {
  concierge_audio_format format{};
  with_session(s, "input_format", [&](VoiceSession& session) { format = to_c(session.input_format()); });
  return format;
}
inline concierge_audio_format session_output_format(concierge_voice_session* s) noexcept {
  concierge_audio_format format{};
  with_session(s, "output_format", [&](VoiceSession& session) { format = to_c(session.output_format()); });
  return format;
}
// The per-frame path: a view of the host's bytes, no copy, no allocation, nothing of this layer's touched.
inline void session_send_audio(concierge_voice_session* s, const concierge_frame* frame) noexcept {
  with_session(s, "send_audio", [&](VoiceSession& session) {
    session.send_audio(AudioFrame{AudioFormat{static_cast<AudioEncoding>(frame->encoding), frame->rate},
                                  std::span<const std::uint8_t>(frame->data, frame->bytes), frame->timestamp_us});
  });
}
inline void session_tool_result(concierge_voice_session* s, concierge_str id, concierge_str name,
                                concierge_str output, std::int32_t end_call) noexcept {
  with_session(s, "send_tool_result", [&](VoiceSession& session) {
    const ToolCall call{std::string(view(id)), std::string(view(name)), nlohmann::json::object()};
    ToolResult result;
    result.output = nlohmann::json::parse(view(output));
    result.end_call = end_call != 0;
    session.send_tool_result(call, result);
  });
}
inline void session_playback_progress(concierge_voice_session* s, std::int64_t played_us) noexcept {
  with_session(s, "on_playback_progress",
               [&](VoiceSession& session) { session.on_playback_progress(std::chrono::microseconds(played_us)); });
}
inline void session_simulated_callee_text(concierge_voice_session* s, concierge_str text) noexcept {
  with_session(s, "on_simulated_callee_text",
               [&](VoiceSession& session) { session.on_simulated_callee_text(view(text)); });
}
// C ABI 1.1. The host's event, borrowed: a view of it, nothing copied.
inline LineEvent from_c(const concierge_line_event& event) {
  LineEvent cpp;
  cpp.kind = view(event.kind);
  cpp.detail = view(event.detail);
  cpp.beep_hz = event.beep_hz;
  cpp.note = view(event.note);
  cpp.respond_now = event.respond_now != 0;
  return cpp;
}
inline void session_line_event(concierge_voice_session* s, const concierge_line_event* event) noexcept {
  if (!event) return;
  with_session(s, "on_line_event", [&](VoiceSession& session) { session.on_line_event(from_c(*event)); });
}
inline void session_close(concierge_voice_session* s) noexcept {
  with_session(s, "close", [&](VoiceSession& session) {
    session.close();
    if (VoiceSessionBox* owner = box(s)) owner->events.detach();
  });
}
inline void session_destroy(concierge_voice_session* s) noexcept {
  const auto it = sessions().find(s);
  if (it == sessions().end()) return;
  std::shared_ptr<VoiceSessionBox> owned = std::move(it->second);
  sessions().erase(it);
  guarded(owned->instance, "destroy", [&] {
    owned->session->close();
    owned->events.detach();  // the events handle is invalid once this returns (abi.h)
    owned->session.reset();
  });
}

inline const concierge_voice_model_api* voice_model_table() {
  static const concierge_voice_model_api table = {
      sizeof(concierge_voice_model_api), open_session,       session_input_format,
      session_output_format,             session_send_audio, session_tool_result,
      session_playback_progress,         session_simulated_callee_text,
      session_close,                     session_destroy,
      session_line_event,
  };
  return &table;
}


// ---- agents ----

inline void write(concierge_text_sink* sink, const std::string& text) {
  if (sink && sink->write) sink->write(sink->ctx, text.data(), text.size());
}
inline std::string text_of(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
inline nlohmann::json object_of(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : nlohmann::json::object();
}

struct AgentSessionBox {
  InstanceBox* instance;
  std::unique_ptr<AgentSession> session;
};
inline AgentSessionBox* box(concierge_agent_session* s) { return reinterpret_cast<AgentSessionBox*>(s); }

inline std::int32_t agent_plan(concierge_instance* instance, concierge_str request_json, concierge_text_sink* plan,
                               concierge_error* error) noexcept {
  try {
    const nlohmann::json j = nlohmann::json::parse(view(request_json));
    TaskRequest request;
    request.text = text_of(j, "text");
    request.fields = object_of(j, "fields");
    const TaskPlan p = box(instance)->instance.agent->plan(request);
    write(plan, nlohmann::json{{"ready", p.ready}, {"question", p.question}, {"callee_name", p.callee_name},
                               {"phone_number", p.phone_number}, {"summary", p.summary}, {"details", p.details},
                               {"reading", p.reading}}
                    .dump());
    return CONCIERGE_OK;
  } catch (const std::exception& e) {
    set_error(error, CONCIERGE_E_INTERNAL, "", e.what());
  } catch (...) {
    set_error(error, CONCIERGE_E_INTERNAL, "", "plan threw an exception that is not a std::exception");
  }
  return CONCIERGE_E_INTERNAL;
}

inline concierge_agent_session* agent_open_session(concierge_instance* instance, concierge_str plan_json,
                                                   concierge_error* error) noexcept {
  try {
    const nlohmann::json j = nlohmann::json::parse(view(plan_json));
    TaskPlan plan;
    plan.ready = j.value("ready", false);
    plan.question = text_of(j, "question");
    plan.callee_name = text_of(j, "callee_name");
    plan.phone_number = text_of(j, "phone_number");
    plan.summary = text_of(j, "summary");
    plan.details = object_of(j, "details");
    plan.reading = object_of(j, "reading");
    auto session = std::make_unique<AgentSessionBox>();
    session->instance = box(instance);
    session->session = box(instance)->instance.agent->open_session(plan);
    if (!session->session) {
      set_error(error, CONCIERGE_E_INTERNAL, "", "open_session returned no session");
      return nullptr;
    }
    return reinterpret_cast<concierge_agent_session*>(session.release());
  } catch (const std::exception& e) {
    set_error(error, CONCIERGE_E_INTERNAL, "", e.what());
  } catch (...) {
    set_error(error, CONCIERGE_E_INTERNAL, "", "open_session threw an exception that is not a std::exception");
  }
  return nullptr;
}

inline void agent_session_instructions(concierge_agent_session* s, concierge_text_sink* out) noexcept {
  guarded(box(s)->instance, "instructions", [&] { write(out, box(s)->session->instructions()); });
}
inline void agent_session_tools(concierge_agent_session* s, concierge_text_sink* out) noexcept {
  guarded(box(s)->instance, "tools", [&] {
    nlohmann::json tools = nlohmann::json::array();
    for (const auto& tool : box(s)->session->tools())
      tools.push_back({{"name", tool.name}, {"description", tool.description}, {"parameters", tool.parameters}});
    write(out, tools.dump());
  });
}
inline std::int32_t agent_session_tool_call(concierge_agent_session* s, concierge_str id, concierge_str name,
                                            concierge_str arguments, concierge_text_sink* output,
                                            std::int32_t* end_call) noexcept {
  std::int32_t status = CONCIERGE_E_INTERNAL;
  guarded(box(s)->instance, "on_tool_call", [&] {
    ToolCall call{std::string(view(id)), std::string(view(name)), nlohmann::json::object()};
    if (arguments.len) call.arguments = nlohmann::json::parse(view(arguments));
    const ToolResult result = box(s)->session->on_tool_call(call);
    write(output, result.output.dump());
    if (end_call) *end_call = result.end_call ? 1 : 0;
    status = CONCIERGE_OK;
  });
  return status;
}
inline void agent_session_transcript(concierge_agent_session* s, std::int32_t speaker, concierge_str text,
                                     std::int64_t at_unix_us) noexcept {
  guarded(box(s)->instance, "on_transcript", [&] {
    TranscriptEntry entry;
    entry.speaker = static_cast<Speaker>(speaker);
    entry.text = std::string(view(text));
    entry.at = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::microseconds(at_unix_us)));
    box(s)->session->on_transcript(entry);
  });
}
inline void agent_session_outcome(concierge_agent_session* s, concierge_text_sink* out) noexcept {
  guarded(box(s)->instance, "outcome", [&] {
    const Outcome o = box(s)->session->outcome();
    write(out, nlohmann::json{{"success", o.success},
                              {"confirmation_number", o.confirmation_number},
                              {"failure_reason", o.failure_reason},
                              {"details", o.details}}
                   .dump());
  });
}
inline std::int32_t agent_session_listens_for_beep(concierge_agent_session* s) noexcept {
  std::int32_t listens = 0;
  guarded(box(s)->instance, "listens_for_beep", [&] { listens = box(s)->session->listens_for_beep() ? 1 : 0; });
  return listens;
}
inline void agent_session_line_event(concierge_agent_session* s, const concierge_line_event* event,
                                     concierge_text_sink* note) noexcept {
  if (!event) return;
  guarded(box(s)->instance, "on_line_event", [&] {
    const std::string text = box(s)->session->on_line_event(from_c(*event));
    if (!text.empty()) write(note, text);
  });
}
inline void agent_session_destroy(concierge_agent_session* s) noexcept {
  std::unique_ptr<AgentSessionBox> owned(box(s));
  guarded(owned->instance, "destroy", [&] { owned->session.reset(); });
}

inline const concierge_agent_api* agent_table() {
  static const concierge_agent_api table = {
      sizeof(concierge_agent_api), agent_plan,           agent_open_session,       agent_session_instructions,
      agent_session_tools,         agent_session_tool_call, agent_session_transcript, agent_session_outcome,
      agent_session_destroy,       agent_session_listens_for_beep, agent_session_line_event,
  };
  return &table;
}

// ---- telephony ----

inline concierge_call_status_update to_c(const CallStatusUpdate& update) {
  return concierge_call_status_update{sizeof(concierge_call_status_update), static_cast<std::int32_t>(update.status),
                                      str(update.reason), update.duration_seconds ? *update.duration_seconds : -1,
                                      str(update.answered_by)};
}

// The host's side of one call, as the CallEvents the plugin's leg reports through. It retains the host's handle
// (call_events_retain) for as long as the plugin holds it, so a provider may keep it past the leg to report late
// statuses (CallEvents::on_late_status), as over the C++ boundary.
class CallEventsOverC final : public CallEvents {
 public:
  CallEventsOverC(const concierge_host_api* api, concierge_call_events* events)
      : events_(api->call_events_retain(events)), call_audio_(api->call_audio), api_(api) {}
  ~CallEventsOverC() override { api_->call_events_release(events_); }
  void on_provider_call_id(std::string_view id) override { api_->call_provider_call_id(events_, str(id)); }
  void on_status(const CallStatusUpdate& update) override {
    const concierge_call_status_update c = to_c(update);
    api_->call_status(events_, &c);
  }
  void on_media_started(AudioFormat line_format) override { api_->call_media_started(events_, to_c(line_format)); }
  // The per-frame path: a view of the plugin's bytes, nothing copied or allocated.
  void on_audio(const AudioFrame& frame) override {
    const concierge_frame c{frame.bytes.data(), frame.bytes.size(), static_cast<std::uint32_t>(frame.format.encoding),
                            frame.format.sample_rate, 1, frame.timestamp_us};
    call_audio_(events_, &c);
  }
  void on_playback_progress(std::chrono::microseconds played) override {
    api_->call_playback_progress(events_, played.count());
  }
  void on_dtmf(char digit) override { api_->call_dtmf(events_, digit); }
  void on_media_stopped(std::string_view reason) override { api_->call_media_stopped(events_, str(reason)); }
  void on_simulated_callee_text(std::string_view text) override {
    api_->call_simulated_callee_text(events_, str(text));
  }
  void on_late_status(const CallStatusUpdate& update) override {
    const concierge_call_status_update c = to_c(update);
    api_->call_late_status(events_, &c);
  }

 private:
  // The per-frame path's fields first, beside the vtable pointer.
  concierge_call_events* events_;
  void (*call_audio_)(concierge_call_events*, const concierge_frame*);
  const concierge_host_api* api_;
};

// One leg. As for voice sessions, the host's handle is the plugin's CallLeg itself (the per-frame path touches no
// object of this layer's); this box, found from the handle in legs(), holds it.
struct CallLegBox {
  InstanceBox* instance;
  std::shared_ptr<CallLeg> leg;
};
inline std::map<const void*, std::shared_ptr<CallLegBox>>& legs() {
  static std::map<const void*, std::shared_ptr<CallLegBox>> open;  // loop thread only
  return open;
}
// Registers `leg` and returns its handle; NULL when that object is already a leg of this library.
inline concierge_call_leg* register_leg(InstanceBox* instance, std::shared_ptr<CallLeg> leg) {
  const void* handle = leg.get();
  if (!legs().emplace(handle, std::make_shared<CallLegBox>(CallLegBox{instance, std::move(leg)})).second)
    return nullptr;
  return reinterpret_cast<concierge_call_leg*>(const_cast<void*>(handle));
}

template <class F>
void with_leg(concierge_call_leg* l, const char* what, F&& body) noexcept {
  try {
    body(*reinterpret_cast<CallLeg*>(l));
  } catch (...) {
    const auto it = legs().find(l);
    guarded(it == legs().end() ? nullptr : it->second->instance, what, [] { throw; });
  }
}

inline HttpRequest from_c(const concierge_http_request& r) {
  concierge_http_request c{};
  std::memcpy(&c, &r, std::min<std::size_t>(sizeof c, r.struct_size));
  HttpRequest request;
  request.method = std::string(view(c.method));
  request.target = std::string(view(c.target));
  request.path = std::string(view(c.path));
  for (std::size_t i = 0; i < c.query_count; ++i)
    request.query[std::string(view(c.query[i].name))] = std::string(view(c.query[i].value));
  for (std::size_t i = 0; i < c.header_count; ++i)
    request.headers.emplace_back(std::string(view(c.headers[i].name)), std::string(view(c.headers[i].value)));
  request.body = std::string(view(c.body));
  request.remote_address = std::string(view(c.remote_address));
  return request;
}

inline void write_response(concierge_http_response_writer* writer, const HttpResponse& response) {
  const concierge_host_api* api = host_api();
  api->response_set_status(writer, response.status);
  api->response_set_content_type(writer, str(response.content_type));
  for (const auto& [name, value] : response.headers) api->response_add_header(writer, str(name), str(value));
  if (!response.body.empty()) api->response_append_body(writer, str(response.body));
}

// An accepted media stream, as the WebSocketPeer the plugin keeps. Detached (every call a no-op) once the host
// destroys its handler: the peer handle is invalid from then on (abi.h), though the plugin may still hold this.
class WebSocketPeerOverC final : public WebSocketPeer {
 public:
  WebSocketPeerOverC(const concierge_host_api* api, concierge_ws_peer* peer)
      : peer_(peer), send_text_(api->ws_peer_send_text), api_(api),
        request_(from_c(*api->ws_peer_upgrade_request(peer))) {}
  void detach() { peer_ = nullptr; }
  void send_text(std::string_view message) override {  // per frame, twice (a provider's media and mark)
    if (peer_) send_text_(peer_, str(message));
  }
  void close(std::string_view reason) override {
    if (peer_) api_->ws_peer_close(peer_, str(reason));
  }
  bool is_open() const override { return peer_ && api_->ws_peer_is_open(peer_) != 0; }
  const HttpRequest& upgrade_request() const override { return request_; }

 private:
  // The per-frame path's fields first, beside the vtable pointer.
  concierge_ws_peer* peer_;
  std::int32_t (*send_text_)(concierge_ws_peer*, concierge_str);
  const concierge_host_api* api_;
  HttpRequest request_;
};

// One accepted stream. As for legs, the host's handle is the plugin's WebSocketHandler itself (a message, twice per
// frame, touches no object of this layer's); this box, found from the handle in ws_handlers(), holds it.
struct WsHandlerBox {
  InstanceBox* instance;
  std::shared_ptr<WebSocketPeerOverC> peer;
  std::shared_ptr<WebSocketHandler> handler;
};
inline std::map<const void*, std::unique_ptr<WsHandlerBox>>& ws_handlers() {
  static std::map<const void*, std::unique_ptr<WsHandlerBox>> open;  // loop thread only
  return open;
}
inline WsHandlerBox* box(concierge_ws_handler* h) {
  const auto it = ws_handlers().find(h);
  return it == ws_handlers().end() ? nullptr : it->second.get();
}
// Calls `body` with the plugin's handler (the handle); an exception is logged through the stream's instance.
template <class F>
void with_ws_handler(concierge_ws_handler* h, const char* what, F&& body) noexcept {
  try {
    body(*reinterpret_cast<WebSocketHandler*>(h));
  } catch (...) {
    WsHandlerBox* owner = box(h);
    guarded(owner ? owner->instance : nullptr, what, [] { throw; });
  }
}

inline TelephonyProvider& provider(concierge_instance* instance) { return *box(instance)->instance.telephony; }

inline concierge_call_leg* telephony_place_call(concierge_instance* instance, const concierge_outbound_call* c,
                                                concierge_call_events* events, concierge_error* error) noexcept {
  try {
    concierge_outbound_call copy{};
    std::memcpy(&copy, c, std::min<std::size_t>(sizeof copy, c->struct_size));
    OutboundCall call;
    call.call_id = std::string(view(copy.call_id));
    call.to = std::string(view(copy.to));
    call.callee_name = std::string(view(copy.callee_name));
    call.ring_timeout = std::chrono::seconds(copy.ring_timeout_s);
    auto leg = provider(instance).place_call(call, std::make_shared<CallEventsOverC>(host_api(), events));
    if (!leg) {
      set_error(error, CONCIERGE_E_INTERNAL, "", "place_call returned no call leg");
      return nullptr;
    }
    if (concierge_call_leg* handle = register_leg(box(instance), std::move(leg))) return handle;
    set_error(error, CONCIERGE_E_INTERNAL, "", "place_call returned a call leg that is already in use");
  } catch (const std::exception& e) {
    set_error(error, CONCIERGE_E_INTERNAL, "", e.what());
  } catch (...) {
    set_error(error, CONCIERGE_E_INTERNAL, "", "place_call threw an exception that is not a std::exception");
  }
  return nullptr;
}
// The per-frame path: a view of the host's bytes, no copy, no allocation, nothing of this layer's touched.
inline void leg_send_audio(concierge_call_leg* l, const concierge_frame* frame) noexcept {
  with_leg(l, "send_audio", [&](CallLeg& leg) {
    leg.send_audio(AudioFrame{AudioFormat{static_cast<AudioEncoding>(frame->encoding), frame->rate},
                              std::span<const std::uint8_t>(frame->data, frame->bytes), frame->timestamp_us});
  });
}
inline void leg_clear_audio(concierge_call_leg* l) noexcept {
  with_leg(l, "clear_audio", [](CallLeg& leg) { leg.clear_audio(); });
}
inline void leg_hang_up(concierge_call_leg* l) noexcept {
  with_leg(l, "hang_up", [](CallLeg& leg) { leg.hang_up(); });
}
inline void leg_simulated_agent_text(concierge_call_leg* l, concierge_str text) noexcept {
  with_leg(l, "on_simulated_agent_text", [&](CallLeg& leg) { leg.on_simulated_agent_text(view(text)); });
}
inline void leg_destroy(concierge_call_leg* l) noexcept {
  const auto it = legs().find(l);
  if (it == legs().end()) return;
  std::shared_ptr<CallLegBox> owned = std::move(it->second);
  legs().erase(it);
  guarded(owned->instance, "destroy", [&] { owned->leg.reset(); });
}
inline std::size_t telephony_route_count(concierge_instance* instance) noexcept {
  return box(instance)->routes.size();
}
inline concierge_str telephony_route(concierge_instance* instance, std::size_t index) noexcept {
  const auto& routes = box(instance)->routes;
  return index < routes.size() ? str(routes[index]) : concierge_str{};
}
inline void telephony_handle_http(concierge_instance* instance, const concierge_http_request* request,
                                  concierge_http_response_writer* response) noexcept {
  try {
    write_response(response, provider(instance).handle_http(from_c(*request)));
  } catch (const std::exception& e) {
    box(instance)->log->error(std::string("handle_http threw: ") + e.what());
    write_response(response, HttpResponse::json_error(500, "the telephony plugin failed this request"));
  } catch (...) {
    box(instance)->log->error("handle_http threw an exception that is not a std::exception");
    write_response(response, HttpResponse::json_error(500, "the telephony plugin failed this request"));
  }
}
inline std::int32_t telephony_check_media_stream_upgrade(concierge_instance* instance,
                                                         const concierge_http_request* upgrade,
                                                         concierge_http_response_writer* response) noexcept {
  try {
    const std::optional<HttpResponse> refusal = provider(instance).check_media_stream_upgrade(from_c(*upgrade));
    if (!refusal) return 1;
    write_response(response, *refusal);
  } catch (const std::exception& e) {
    box(instance)->log->error(std::string("check_media_stream_upgrade threw: ") + e.what());
    write_response(response, HttpResponse::json_error(500, "the telephony plugin failed this upgrade"));
  } catch (...) {
    write_response(response, HttpResponse::json_error(500, "the telephony plugin failed this upgrade"));
  }
  return 0;
}
inline concierge_ws_handler* telephony_open_media_stream(concierge_instance* instance,
                                                         concierge_ws_peer* peer) noexcept {
  try {
    auto handler = std::make_unique<WsHandlerBox>();
    handler->instance = box(instance);
    handler->peer = std::make_shared<WebSocketPeerOverC>(host_api(), peer);
    handler->handler = provider(instance).open_media_stream(handler->peer);
    const void* handle = handler->handler.get();
    if (!handle || ws_handlers().count(handle)) {  // none, or one already serving another stream
      handler->peer->detach();
      return nullptr;
    }
    ws_handlers().emplace(handle, std::move(handler));
    return reinterpret_cast<concierge_ws_handler*>(const_cast<void*>(handle));
  } catch (const std::exception& e) {
    box(instance)->log->error(std::string("open_media_stream threw: ") + e.what());
  } catch (...) {
    box(instance)->log->error("open_media_stream threw an exception that is not a std::exception");
  }
  return nullptr;
}
// The per-message path: nothing of this layer's touched.
inline void ws_handler_on_text(concierge_ws_handler* h, concierge_str message) noexcept {
  with_ws_handler(h, "on_text", [&](WebSocketHandler& handler) { handler.on_text(view(message)); });
}
inline void ws_handler_on_closed(concierge_ws_handler* h, concierge_str reason) noexcept {
  with_ws_handler(h, "on_closed", [&](WebSocketHandler& handler) { handler.on_closed(view(reason)); });
}
inline void ws_handler_destroy(concierge_ws_handler* h) noexcept {
  const auto it = ws_handlers().find(h);
  if (it == ws_handlers().end()) return;
  std::unique_ptr<WsHandlerBox> owned = std::move(it->second);
  ws_handlers().erase(it);
  owned->peer->detach();  // the peer handle is invalid once this returns (abi.h)
  guarded(owned->instance, "destroy", [&] { owned->handler.reset(); });
}
inline std::int32_t telephony_check_destination(concierge_instance* instance, concierge_str number,
                                                concierge_text_sink* reason) noexcept {
  std::int32_t allowed = 0;
  guarded(box(instance), "check_destination", [&] {
    const std::string why = provider(instance).check_destination(view(number));
    if (why.empty()) {
      allowed = 1;
      return;
    }
    write(reason, why);
  });
  return allowed;
}

inline const concierge_telephony_api* telephony_table() {
  static const concierge_telephony_api table = {
      sizeof(concierge_telephony_api),
      telephony_place_call,
      leg_send_audio,
      leg_clear_audio,
      leg_hang_up,
      leg_simulated_agent_text,
      leg_destroy,
      telephony_route_count,
      telephony_route,
      telephony_handle_http,
      telephony_check_media_stream_upgrade,
      telephony_open_media_stream,
      ws_handler_on_text,
      ws_handler_on_closed,
      ws_handler_destroy,
      telephony_check_destination,
  };
  return &table;
}

inline const concierge_plugin* entry(const concierge_host_api* host, std::uint32_t kind, const char* name,
                                     const char* version, const char* description, CreateFunction create_fn) {
  if (!host || host->abi_major != CONCIERGE_ABI_MAJOR || host->struct_size < sizeof(concierge_host_api)) return nullptr;
  host_api() = host;
  create_function() = create_fn;
  static const concierge_plugin descriptor = {
      sizeof(concierge_plugin), CONCIERGE_ABI_MAGIC, CONCIERGE_ABI_MAJOR, CONCIERGE_ABI_MINOR, kind, name, version,
      description, create, destroy, kind == CONCIERGE_KIND_TELEPHONY ? telephony_table() : nullptr,
      kind == CONCIERGE_KIND_VOICE_MODEL ? voice_model_table() : nullptr,
      kind == CONCIERGE_KIND_AGENT ? agent_table() : nullptr,
  };
  return &descriptor;
}

}  // namespace detail

inline std::shared_ptr<CallEvents> Host::accept_inbound_call(const InboundCall& call) {
  if (!call.leg) return nullptr;
  concierge_call_leg* handle = detail::register_leg(box_, call.leg);
  if (!handle) return nullptr;
  const concierge_inbound_call c{sizeof(concierge_inbound_call), str(call.from), str(call.to),
                                 str(call.provider_call_id)};
  concierge_call_events* events = api_->accept_inbound_call(host_, &c, handle);
  if (!events) {
    detail::legs().erase(handle);  // refused: the leg stays the caller's
    return nullptr;
  }
  return std::make_shared<detail::CallEventsOverC>(api_, events);
}

}  // namespace concierge::cxx

#if defined(CONCIERGE_PLUGIN_FILE_NAME)
#define CONCIERGE_CXX_PLUGIN_CHECK_FILE_NAME(NAME)                                                            \
  static_assert(std::string_view(NAME) == std::string_view(CONCIERGE_PLUGIN_FILE_NAME),                      \
                "CONCIERGE_CXX_PLUGIN's NAME must equal the plugin's file name (concierge_add_plugin's first argument)");
#else
#define CONCIERGE_CXX_PLUGIN_CHECK_FILE_NAME(NAME)
#endif

// Defines the plugin's one export. KIND: telephony, voice_model or agent. CREATE: a function
// `concierge::cxx::Instance CREATE(const concierge::cxx::Context&, const YAML::Node&)` that throws ConfigError for a
// bad block.
#define CONCIERGE_CXX_KIND_telephony CONCIERGE_KIND_TELEPHONY
#define CONCIERGE_CXX_KIND_voice_model CONCIERGE_KIND_VOICE_MODEL
#define CONCIERGE_CXX_KIND_agent CONCIERGE_KIND_AGENT
#define CONCIERGE_CXX_PLUGIN(KIND, NAME, VERSION, DESCRIPTION, CREATE)                                          \
  CONCIERGE_CXX_PLUGIN_CHECK_FILE_NAME(NAME)                                                                    \
  extern "C" CONCIERGE_EXPORT const concierge_plugin* concierge_plugin_entry(const concierge_host_api* host) { \
    return ::concierge::cxx::detail::entry(host, CONCIERGE_CXX_KIND_##KIND, NAME, VERSION, DESCRIPTION, &CREATE); \
  }
