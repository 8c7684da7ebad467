// One io_context thread drives every call: a writer coroutine per call sends Twilio's messages on an absolute 20 ms
// schedule (no drift) and is the only writer of its socket; a reader coroutine per call matches the daemon's media
// messages to sent frames and queues the marks Twilio would echo once the audio before them has been played.
#include "load_generator.hpp"

#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <random>

#include <unistd.h>
#include <set>

#include "concierge/base64.hpp"
#include "concierge/net/asio.hpp"
#include "process_stats.hpp"
#include "stats.hpp"
#include "twilio_wire.hpp"
#include "ws_frames.hpp"

namespace concierge::bench {
namespace {

using namespace concierge::net;
using Clock = std::chrono::steady_clock;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kFrame = std::chrono::milliseconds(20);

struct Level {
  LoadOptions options;
  Clock::time_point origin = Clock::now();  // slot 0 of the 20 ms cycle
  unsigned calls = 0;
  unsigned connecting = 0;
  unsigned connected = 0;
  unsigned failed = 0;
  unsigned finished = 0;
  unsigned finished_measuring = 0;
  unsigned closed_early = 0;
  std::uint64_t sent = 0, received = 0, late = 0, altered = 0, media = 0, marks = 0;
  std::vector<double> latencies_ms;
  std::vector<double> send_lags_ms;
  std::vector<double> in_flight_ms;
  std::set<std::string> errors;
  // Calls streaming frames, by the millisecond of the 20 ms cycle their frames fall on (see send_ticks).
  std::array<std::vector<std::shared_ptr<struct Call>>, 20> slots;
  bool sending_over = false;
  void error(const std::string& text) {
    if (errors.size() < 5) errors.insert(text);
  }
};

struct PendingMark {
  Clock::time_point due;
  std::string name;
};

struct Call {
  Call(asio::io_context& io, Level& level, unsigned index)
      : level(level), index(index), id(make_identity(level.options.run_id, index)), ws(io), timer(io),
        mask_state(0x9E3779B9u ^ (index * 2654435761u)) {}
  Level& level;
  unsigned index;
  StreamIdentity id;
  websocket::stream<beast::tcp_stream> ws;
  asio::steady_timer timer;
  std::size_t measured = 0;  // frames to measure
  std::vector<Clock::time_point> sent_at;
  std::vector<bool> matched;
  std::size_t frames_sent = 0;
  enum class Mode { unknown, exact, counting } mode = Mode::unknown;
  std::uint64_t returned_samples = 0;
  std::uint64_t sent_samples = 0;  // every frame, the flush frames too
  std::size_t next_by_count = 0;
  std::vector<std::uint8_t> decoded;
  std::array<std::uint8_t, kFrameBytes> frame{};
  Clock::time_point playback_end{};
  std::deque<PendingMark> marks;
  std::vector<std::string> pongs;  // pings from the daemon, answered with the next write
  std::uint32_t mask_state;
  bool stop_sent = false;
  bool close_sent = false;
  bool writing = false;
  // Frame sending (send_ticks): the schedule, the next frame, and output the socket did not take at once.
  Clock::time_point first_due{};
  std::size_t next_frame = 0, total_frames = 0;
  std::uint64_t sequence_number = 2;
  bool sending_done = false;
  std::string out, message, backlog;
  bool reader_done = false;

  // Frame masks: xorshift32 (RFC 6455 asks only that proxies cannot predict them).
  std::uint32_t next_mask() {
    mask_state ^= mask_state << 13;
    mask_state ^= mask_state >> 17;
    mask_state ^= mask_state << 5;
    return mask_state;
  }

  void matched_frame(std::size_t sequence, Clock::time_point now) {
    if (sequence >= frames_sent || sequence >= measured || matched[sequence]) return;
    matched[sequence] = true;
    const double ms = std::chrono::duration<double, std::milli>(now - sent_at[sequence]).count();
    level.latencies_ms.push_back(ms);
    ++level.received;
    if (ms > 20.0) ++level.late;
  }

  void on_media(std::string_view payload, Clock::time_point now) {
    ++level.media;
    decoded.resize(base64::max_decoded_size(payload.size()));
    const auto n = base64::decode(payload, decoded);
    if (!n) {
      level.error("the daemon sent a media payload that is not base64");
      return;
    }
    // Twilio plays what it is given in order, in real time.
    playback_end = std::max(playback_end, now) + std::chrono::microseconds(*n * 125);
    if (sent_samples >= returned_samples + *n)
      level.in_flight_ms.push_back(double(sent_samples - returned_samples - *n) / 8.0);
    const auto marker = read_marker(decoded.data(), *n);
    if (mode == Mode::unknown) {
      mode = marker && marker->call_index == index ? Mode::exact : Mode::counting;
    }
    if (mode == Mode::exact) {
      returned_samples += *n;
      if (marker && marker->call_index == index) matched_frame(marker->sequence, now);
      else ++level.altered;
      return;
    }
    returned_samples += *n;
    while (next_by_count < measured && next_by_count < frames_sent &&
           returned_samples >= (next_by_count + 1) * kFrameBytes) {
      matched_frame(next_by_count, now);
      ++next_by_count;
    }
  }
};

// Frames from the daemon, read off the socket directly (see ws_frames.hpp): one read takes everything that arrived.
awaitable<void> read_loop(std::shared_ptr<Call> call) {
  auto& socket = beast::get_lowest_layer(call->ws).socket();
  WsFrameReader reader;
  std::string message;  // a fragmented message, put together (the daemon sends none, but the protocol allows it)
  std::string close_reason;
  bool server_closed = false;
  try {
    while (!server_closed) {
      char* at = reader.write_position();
      const std::size_t n = co_await socket.async_read_some(asio::buffer(at, reader.write_room()), use_awaitable);
      reader.wrote(n);
      const auto now = Clock::now();
      WsFrame frame;
      for (;;) {
        const auto result = reader.next(frame);
        if (result == WsFrameReader::Result::need_more) break;
        if (result == WsFrameReader::Result::error) {
          call->level.error(reader.error());
          server_closed = true;
          break;
        }
        if (frame.opcode == kWsClose) {
          server_closed = true;
          if (frame.payload.size() > 2) close_reason.assign(frame.payload.substr(2));
          if (!call->close_sent && !call->writing) {
            // Answer the daemon's close, as a client must (unless a write is under way: then the socket just
            // closes); the writer sends nothing after it.
            call->close_sent = true;
            std::string out;
            append_client_frame(out, kWsClose, frame.payload.substr(0, std::min<std::size_t>(2, frame.payload.size())),
                                call->next_mask());
            beast::error_code ignored;
            asio::write(socket, asio::buffer(out), ignored);
          }
          break;
        }
        if (frame.opcode == kWsPing) {
          call->pongs.push_back(std::string(frame.payload));
          continue;
        }
        if (frame.opcode == kWsPong || frame.opcode == kWsBinary) continue;
        std::string_view text = frame.payload;
        if (frame.opcode == kWsContinuation || !frame.fin) {
          if (frame.opcode != kWsContinuation) message.clear();
          message.append(frame.payload);
          if (!frame.fin) continue;
          text = message;
        }
        const ServerMessage msg = scan_server_message(text);
        switch (msg.kind) {
          case ServerMessage::Kind::media: call->on_media(msg.payload, now); break;
          case ServerMessage::Kind::mark:
            call->marks.push_back({std::max(call->playback_end, now), std::string(msg.mark_name)});
            break;
          case ServerMessage::Kind::clear:
            // Twilio drops the queued audio; the marks for it come back at once.
            call->playback_end = now;
            for (auto& mark : call->marks) mark.due = now;
            break;
          case ServerMessage::Kind::other: break;
          case ServerMessage::Kind::malformed: call->level.error("malformed message from the daemon"); break;
        }
      }
    }
  } catch (const boost::system::system_error& e) {
    if (!call->stop_sent) close_reason = e.code().message();
  }
  if (!call->stop_sent) {
    ++call->level.closed_early;
    call->level.error("stream closed by the server before stop: " +
                      (close_reason.empty() ? std::string("closed") : close_reason));
  }
  call->reader_done = true;
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
}

// Output the socket did not take at once (its buffer was full): written in the background, in order.
awaitable<void> write_backlog(std::shared_ptr<Call> call) {
  auto& socket = beast::get_lowest_layer(call->ws).socket();
  std::string writing;
  try {
    while (!call->backlog.empty()) {
      writing.swap(call->backlog);
      call->backlog.clear();
      co_await asio::async_write(socket, asio::buffer(writing), use_awaitable);
    }
  } catch (const boost::system::system_error& e) {
    if (!call->stop_sent) call->level.error("write: " + e.code().message());
    call->sending_done = true;
  }
  call->writing = false;
}

// Sends `bytes` now if the socket takes them, else queues them behind what is already waiting.
void send_now(const std::shared_ptr<Call>& call, std::string_view bytes) {
  if (call->writing) {
    call->backlog.append(bytes);
    return;
  }
  beast::error_code ec;
  auto& socket = beast::get_lowest_layer(call->ws).socket();
  const std::size_t n = socket.write_some(asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
    if (!call->stop_sent) call->level.error("write: " + ec.message());
    call->sending_done = true;
    return;
  }
  const std::size_t written = ec ? 0 : n;
  if (written == bytes.size()) return;
  call->backlog.assign(bytes.substr(written));
  call->writing = true;
  asio::co_spawn(socket.get_executor(), write_backlog(call), asio::detached);
}

// Frame k of a call, with the marks whose audio has been "played" by now and any pongs owed, in one write.
void send_frame(const std::shared_ptr<Call>& call, std::size_t k, Clock::time_point scheduled) {
  Level& level = call->level;
  fill_frame(call->frame.data(), call->index, static_cast<std::uint32_t>(k));
  call->out.clear();
  media_message(call->message, call->id, call->sequence_number++, k + 1, k * 20, call->frame.data(), kFrameBytes);
  append_client_frame(call->out, kWsText, call->message, call->next_mask());
  const auto now = Clock::now();
  while (!call->marks.empty() && call->marks.front().due <= now) {
    mark_message(call->message, call->id, call->sequence_number++, call->marks.front().name);
    call->marks.pop_front();
    ++level.marks;
    append_client_frame(call->out, kWsText, call->message, call->next_mask());
  }
  for (const auto& payload : call->pongs) append_client_frame(call->out, kWsPong, payload, call->next_mask());
  call->pongs.clear();
  call->sent_samples += kFrameBytes;
  if (k < call->measured) {
    level.send_lags_ms.push_back(std::chrono::duration<double, std::milli>(now - scheduled).count());
    call->sent_at[k] = now;
    call->frames_sent = k + 1;
    ++level.sent;
    if (k + 1 == call->measured) ++level.finished_measuring;
  }
  send_now(call, call->out);
}

// Every call's frames, from one coroutine: each millisecond it sends the frames due in that millisecond of the
// 20 ms cycle. (A timer and a coroutine resumption per call per frame cost the generator as much CPU as the daemon
// spends on the frame, and the generator shares the machine with the daemon it measures.) A frame leaves at most a
// millisecond after its time (the send lag reports it); its round trip counts from when it actually left.
awaitable<void> send_ticks(Level& level) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto tick = level.origin;
  std::size_t slot = 0;
  while (!level.sending_over) {
    timer.expires_at(tick);
    co_await timer.async_wait(use_awaitable);
    const auto now = Clock::now();
    auto& calls = level.slots[slot];
    for (std::size_t i = 0; i < calls.size();) {
      const auto& call = calls[i];
      while (!call->sending_done && call->next_frame < call->total_frames) {
        if (call->reader_done || call->close_sent) {
          call->sending_done = true;
          break;
        }
        const auto due = call->first_due + call->next_frame * kFrame;
        if (due > now) break;
        send_frame(call, call->next_frame++, due);
      }
      if (call->next_frame >= call->total_frames) call->sending_done = true;
      if (call->sending_done) {
        call->timer.cancel();  // run_call drains and stops the stream
        calls[i] = calls.back();
        calls.pop_back();
      } else {
        ++i;
      }
    }
    tick += std::chrono::milliseconds(1);
    slot = (slot + 1) % level.slots.size();
    if (tick < now - std::chrono::milliseconds(100)) {
      // Far behind (a stalled machine): skip ahead instead of racing through every missed tick; frames still go
      // out (each call sends everything due when its slot comes round).
      const auto missed = (now - tick) / std::chrono::milliseconds(1);
      tick += std::chrono::milliseconds(missed);
      slot = (slot + static_cast<std::size_t>(missed)) % level.slots.size();
    }
  }
}

awaitable<void> run_call(std::shared_ptr<Call> call, tcp::resolver::results_type endpoints, std::uint32_t phase_us) {
  Level& level = call->level;
  const LoadOptions& options = level.options;
  bool connected = false;
  try {
    beast::get_lowest_layer(call->ws).expires_after(std::chrono::seconds(10));
    co_await beast::get_lowest_layer(call->ws).async_connect(endpoints, use_awaitable);
    beast::get_lowest_layer(call->ws).socket().set_option(tcp::no_delay(true));
    beast::get_lowest_layer(call->ws).expires_never();
    beast::get_lowest_layer(call->ws).expires_after(std::chrono::seconds(30));  // the handshake
    const std::string signature =
        options.auth_token.empty() ? std::string()
                                   : twilio_signature(options.auth_token,
                                                      "wss://" + options.public_domain + options.path);
    call->ws.set_option(websocket::stream_base::decorator([signature](websocket::request_type& request) {
      request.set(http::field::user_agent, "Twilio.TmeWs/1.0");
      if (!signature.empty()) request.set("X-Twilio-Signature", signature);
    }));
    co_await call->ws.async_handshake(options.host + ":" + options.port, options.path, use_awaitable);
    beast::get_lowest_layer(call->ws).expires_never();
    connected = true;
    --level.connecting;
    ++level.connected;
    asio::co_spawn(call->ws.get_executor(), read_loop(call), asio::detached);
    // From here on the frames are written directly on the socket (see ws_frames.hpp); Beast's stream is not used.
    auto& socket = beast::get_lowest_layer(call->ws).socket();
    std::string out;
    out.reserve(1024);
    append_client_frame(out, kWsText, connected_message(), call->next_mask());
    // Built outside the co_await: GCC 12 rejects string-literal temporaries inside a co_await expression.
    std::vector<std::pair<std::string, std::string>> custom;
    custom.emplace_back(std::string("from"), "+1555" + std::to_string(1000000 + call->index));
    custom.emplace_back(std::string("to"), std::string("+15550009999"));
    custom.emplace_back(std::string("bench_call"), std::to_string(call->index));
    append_client_frame(out, kWsText, start_message(call->id, custom), call->next_mask());
    co_await asio::async_write(socket, asio::buffer(out), use_awaitable);

    call->measured = static_cast<std::size_t>(options.duration_seconds * 50);
    call->sent_at.resize(call->measured);
    call->matched.assign(call->measured, false);
    call->total_frames = call->measured + options.flush_frames;
    call->first_due = Clock::now() + std::chrono::microseconds(phase_us);
    // From here send_ticks sends the frames, on the call's own 20 ms schedule; this waits until it is done.
    socket.non_blocking(true);
    const auto since_level = call->first_due - level.origin;
    // The first tick at or after each of its frames' times: the millisecond after the one they fall in.
    const auto slot = (std::chrono::duration_cast<std::chrono::milliseconds>(since_level).count() + 1) % 20;
    level.slots[static_cast<std::size_t>(slot)].push_back(call);
    call->timer.expires_at(Clock::time_point::max());
    beast::error_code woken;
    co_await call->timer.async_wait(asio::redirect_error(use_awaitable, woken));
    std::uint64_t sequence_number = call->sequence_number;
    while (call->writing) {  // the last frames may still be leaving
      call->timer.expires_after(std::chrono::milliseconds(1));
      co_await call->timer.async_wait(use_awaitable);
    }
    if (call->frames_sent < call->measured) ++level.finished_measuring;
    call->timer.expires_after(std::chrono::microseconds(static_cast<long>(options.drain_seconds * 1e6)));
    co_await call->timer.async_wait(use_awaitable);
    call->stop_sent = true;
    if (!call->reader_done && !call->close_sent) {
      call->close_sent = true;
      out.clear();
      append_client_frame(out, kWsText, stop_message(call->id, sequence_number++), call->next_mask());
      const char normal[2] = {char(1000 >> 8), char(1000 & 0xff)};
      append_client_frame(out, kWsClose, std::string_view(normal, 2), call->next_mask());
      call->writing = true;
      co_await asio::async_write(socket, asio::buffer(out), use_awaitable);
      call->writing = false;
      // The daemon answers with its close and ends the connection; the reader sees that.
      for (int i = 0; i < 200 && !call->reader_done; ++i) {
        call->timer.expires_after(std::chrono::milliseconds(10));
        co_await call->timer.async_wait(use_awaitable);
      }
    }
  } catch (const boost::system::system_error& e) {
    if (!connected) {
      --level.connecting;
      ++level.failed;
      ++level.finished_measuring;
      level.error("connect/handshake: " + e.code().message());
    } else if (!call->stop_sent) {
      if (call->frames_sent < call->measured) ++level.finished_measuring;
      level.error("write: " + e.code().message());
    }
  }
  call->stop_sent = true;
  ++level.finished;
}

awaitable<void> wait_for(asio::steady_timer& timer, std::chrono::milliseconds period) {
  timer.expires_after(period);
  co_await timer.async_wait(use_awaitable);
}

awaitable<void> orchestrate(asio::io_context& io, Level& level, LevelResult& result) {
  const LoadOptions& options = level.options;
  tcp::resolver resolver(io);
  const auto endpoints = co_await resolver.async_resolve(options.host, options.port, use_awaitable);
  asio::steady_timer timer(io);
  const auto base = options.daemon_idle_rss_bytes
                        ? std::optional<ProcessSample>(ProcessSample{0, *options.daemon_idle_rss_bytes})
                        : (options.daemon_pid ? sample_process(*options.daemon_pid) : std::nullopt);
  std::mt19937 random(static_cast<std::uint32_t>(options.run_id * 7919 + level.calls));
  std::vector<std::shared_ptr<Call>> calls;
  level.origin = Clock::now();
  asio::co_spawn(io, send_ticks(level), asio::detached);
  const auto level_start = Clock::now();
  for (unsigned i = 0; i < level.calls; ++i) {
    const auto due = level_start + std::chrono::microseconds(
                                       static_cast<long>(options.ramp_seconds * 1e6 * i / std::max(1u, level.calls)));
    while (Clock::now() < due || level.connecting >= options.connect_concurrency)
      co_await wait_for(timer, std::chrono::milliseconds(1));
    auto call = std::make_shared<Call>(io, level, i);
    calls.push_back(call);
    ++level.connecting;
    asio::co_spawn(io, run_call(call, endpoints, random() % 20000), asio::detached);
  }
  while (level.connecting > 0) co_await wait_for(timer, std::chrono::milliseconds(5));
  // Steady state: every call streaming, none finished. CPU and memory are measured over it.
  const auto window_start = Clock::now();
  const auto at_start = options.daemon_pid ? sample_process(*options.daemon_pid) : std::nullopt;
  const auto self_at_start = sample_process(getpid());
  const std::uint64_t received_at_start = level.received;
  while (level.finished_measuring == 0 && level.finished < level.calls)
    co_await wait_for(timer, std::chrono::milliseconds(5));
  const auto window_end = Clock::now();
  const auto at_end = options.daemon_pid ? sample_process(*options.daemon_pid) : std::nullopt;
  const auto self_at_end = sample_process(getpid());
  if (self_at_start && self_at_end && level.connected > 0 && window_end - window_start >= std::chrono::milliseconds(500))
    result.generator_cpu_seconds_per_call_second =
        (self_at_end->cpu_seconds - self_at_start->cpu_seconds) /
        (level.connected * std::chrono::duration<double>(window_end - window_start).count());
  result.steady_seconds = std::chrono::duration<double>(window_end - window_start).count();
  if (level.connected > 0 && result.steady_seconds >= 0.5)
    result.realtime_ratio =
        double(level.received - received_at_start) / (50.0 * level.connected * result.steady_seconds);
  if (at_start && at_end && level.connected > 0 && result.steady_seconds >= 0.5) {
    result.cpu_seconds_per_call_second =
        (at_end->cpu_seconds - at_start->cpu_seconds) / (level.connected * result.steady_seconds);
    result.daemon_rss_bytes = at_end->rss_bytes;
    if (base) result.rss_bytes_per_call = (at_end->rss_bytes - base->rss_bytes) / level.connected;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(60) +
                        std::chrono::milliseconds(static_cast<long>((options.duration_seconds + options.ramp_seconds +
                                                                     options.drain_seconds) * 1000));
  while (level.finished < level.calls && Clock::now() < deadline)
    co_await wait_for(timer, std::chrono::milliseconds(10));
  if (level.finished < level.calls) {
    level.error("some calls did not finish in time; closing them");
    for (auto& call : calls) beast::get_lowest_layer(call->ws).close();
  }
  level.sending_over = true;
  // Let readers see their sockets close (and the sender its flag).
  co_await wait_for(timer, std::chrono::milliseconds(50));
  for (const auto& call : calls) {
    if (call->mode == Call::Mode::exact) ++result.exact_calls;
    if (call->mode == Call::Mode::counting) ++result.counted_calls;
  }
}

}  // namespace

LevelResult run_level(const LoadOptions& options, unsigned calls) {
  asio::io_context io(1);
  Level level;
  level.options = options;
  level.calls = calls;
  level.latencies_ms.reserve(std::size_t(calls) * std::size_t(options.duration_seconds * 50 + 1));
  level.send_lags_ms.reserve(level.latencies_ms.capacity());
  LevelResult result;
  asio::co_spawn(io, orchestrate(io, level, result), [&](std::exception_ptr failure) {
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        level.error(std::string("benchmark: ") + e.what());
      }
    }
    io.stop();
  });
  io.run();

  result.calls = calls;
  result.connected = level.connected;
  result.failed_to_connect = level.failed;
  result.closed_early = level.closed_early;
  result.frames_sent = level.sent;
  result.frames_received = level.received;
  result.frames_late = level.late;
  result.frames_lost = level.sent - level.received;
  result.frames_altered = level.altered;
  result.media_messages_received = level.media;
  result.marks_echoed = level.marks;
  double sum = 0;
  for (double v : level.latencies_ms) sum += v;
  result.latency_mean_ms = level.latencies_ms.empty() ? 0 : sum / double(level.latencies_ms.size());
  result.latency_p50_ms = quantile(level.latencies_ms, 0.50);
  result.latency_p99_ms = quantile(level.latencies_ms, 0.99);
  result.latency_max_ms = level.latencies_ms.empty() ? 0 : level.latencies_ms.back();
  double in_flight_sum = 0;
  for (double v : level.in_flight_ms) in_flight_sum += v;
  result.in_flight_mean_ms = level.in_flight_ms.empty() ? 0 : in_flight_sum / double(level.in_flight_ms.size());
  result.in_flight_p99_ms = quantile(level.in_flight_ms, 0.99);
  result.send_lag_p99_ms = quantile(level.send_lags_ms, 0.99);
  result.send_lag_max_ms = level.send_lags_ms.empty() ? 0 : level.send_lags_ms.back();
  result.errors.assign(level.errors.begin(), level.errors.end());
  return result;
}

}  // namespace concierge::bench
