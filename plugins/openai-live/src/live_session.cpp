#include "live_session.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "concierge/base64.hpp"
#include "concierge/text.hpp"

namespace concierge::openai_live {
namespace {

using nlohmann::json;

// Past this many unsent messages (~4 s of 20 ms frames) the socket is not keeping up; newer callee audio is dropped
// rather than queued without bound, so the conversation does not drift seconds behind the line.
constexpr std::size_t kMaxBacklog = 200;
constexpr std::chrono::milliseconds kEarlyFlushChunk{100};

std::string string_field(const json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& object_field(const json& object, const char* key) {
  static const json empty = json::object();
  if (!object.is_object()) return empty;
  const auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : empty;
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::string shorten(std::string_view text, std::size_t max = 200) { return truncate_utf8(text, max); }

// What each session.closed reason means for the person reading the call record.
std::string close_reason_text(const std::string& reason) {
  if (reason == "expired") return "GPT-Live ended the session: it reached the session duration limit (expired)";
  if (reason == "content")
    return "GPT-Live ended the session: its safety filter stopped the conversation (content); review the agent's "
           "instructions and the call's transcript";
  if (reason == "connection_lost")
    return "GPT-Live ended the session: it lost a connection on its side (connection_lost); the call can be retried";
  if (reason == "remote_hangup") return "GPT-Live ended the session: the remote side hung up (remote_hangup)";
  if (reason == "close_requested") return "GPT-Live closed the session at a close request (close_requested)";
  return "GPT-Live ended the session (reason \"" + reason + "\")";
}

}  // namespace

LiveSession::LiveSession(EventLoop& loop, std::shared_ptr<const LiveConfig> config,
                         std::shared_ptr<LiveTransport> transport, std::shared_ptr<Logger> log,
                         VoiceSessionConfig session, std::shared_ptr<VoiceSessionEvents> events)
    : turn_timer_(loop, [this] { on_turn_timer(); }),
      config_(std::move(config)),
      transport_(std::move(transport)),
      log_(std::move(log)),
      session_(std::move(session)),
      events_(std::move(events)),
      format_(config_->audio_format(session_.line_format)) {
  early_audio_limit_ = format_.sample_rate * format_.bytes_per_sample() * config_->early_audio_limit_ms / 1000;
  early_audio_.reserve(std::min<std::size_t>(early_audio_limit_, format_.sample_rate * format_.bytes_per_sample()));
  decoded_.resize(16 * 1024);  // grows to the largest delta seen
  callee_text_.reserve(256);
  agent_text_.reserve(256);
}

LiveSession::~LiveSession() {
  if (transport_) transport_->close();
}

void LiveSession::start() {
  log_->info("call " + session_.call_id + ": connecting to GPT-Live (model " + config_->model + ", voice " +
             config_->voice + ", audio " + format_.to_string() + ", tools via " + config_->backend_model + ")");
  transport_->start(this);
}

std::string LiveSession::next_event_id() { return "cc_" + std::to_string(++event_counter_); }

void LiveSession::send_json(const json& event) {
  if (!transport_->send(event.dump())) log_->debug("not connected; dropped " + string_field(event, "type"));
}

// ---------------------------------------------------------------------------------------------------------------
// Host -> GPT-Live

void LiveSession::send_audio(const AudioFrame& frame) {
  if (state_ == State::closed || frame.bytes.empty()) return;
  if (frame.format != format_) {
    if (!warned_format_) {
      warned_format_ = true;
      log_->error("call " + session_.call_id + ": callee audio arrives as " + frame.format.to_string() +
                  " but the session takes " + format_.to_string() + "; dropping it");
    }
    ++stats_.frames_dropped;
    return;
  }
  if (state_ != State::ready) {  // nothing goes out before session.started
    if (early_audio_.size() + frame.bytes.size() <= early_audio_limit_)
      early_audio_.insert(early_audio_.end(), frame.bytes.begin(), frame.bytes.end());
    else
      ++stats_.frames_dropped;
    return;
  }
  if (transport_->queued_messages() > kMaxBacklog) {
    if (!warned_backlog_) {
      warned_backlog_ = true;
      log_->warning("call " + session_.call_id + ": the connection to GPT-Live is backed up; dropping callee audio");
    }
    ++stats_.frames_dropped;
    return;
  }
  warned_backlog_ = false;
  transport_->send(append_writer_.write(frame.bytes));
  input_sent_ += frame.duration();
  ++stats_.frames_sent;
}

void LiveSession::send_tool_result(const ToolCall& call, const ToolResult& result) {
  if (state_ == State::closed) return;
  send_json(make_function_call_output(call.id, result.output.dump(), next_event_id()));
  if (tools_outstanding_ > 0) --tools_outstanding_;
  tools_answered_ = true;
  if (result.end_call) end_call_requested_ = true;
  continue_after_tools();
}

void LiveSession::continue_after_tools() {
  if (!tools_answered_ || tools_outstanding_ > 0 || !tools_response_done_) return;
  tools_answered_ = false;
  if (end_call_requested_) {
    // The agent ended the call: the goodbye has been said; another response would only talk over the hang-up.
    log_->info("call " + session_.call_id + ": end_call answered; not asking the backend to continue");
    return;
  }
  send_json(make_response_create(next_event_id()));
}

void LiveSession::on_playback_progress(std::chrono::microseconds played) {
  playback_.on_playback_progress(played, Clock::now());
}

void LiveSession::on_simulated_callee_text(std::string_view) {
  // GPT-Live hears the audio itself; the simulation side-channel is for offline voice models only.
}

void LiveSession::on_line_event(const LineEvent& event) {
  if (state_ == State::closed || event.note.empty()) return;
  if (state_ != State::ready) {
    // Before session.started (an early answering-machine verdict): nothing may precede it, so told once it is.
    if (pending_notes_.size() < 8) pending_notes_.emplace_back(std::string(event.note), event.respond_now);
    return;
  }
  send_note(event.note, event.respond_now);
  log_->info("call " + session_.call_id + ": told GPT-Live of a line event (" + std::string(event.kind) +
             (event.detail.empty() ? "" : " " + std::string(event.detail)) + ")");
}

void LiveSession::send_note(std::string_view note, bool respond_now) {
  send_json(make_context_append(respond_now ? ContextKind::commentary : ContextKind::thinking, note,
                                next_event_id()));
}

void LiveSession::close() {
  if (state_ == State::closed) return;
  const bool started = state_ == State::ready;
  state_ = State::closed;
  events_.reset();
  turn_timer_.cancel();
  if (started) send_json(make_session_close(next_event_id()));  // finalizes the session (usage) on OpenAI's side
  transport_->close();
  log_->info("call " + session_.call_id + ": GPT-Live session closed (" + std::to_string(stats_.frames_sent) +
             " frames sent, " + std::to_string(stats_.deltas_played) + " deltas played, " +
             std::to_string(stats_.interruptions) + " barge-ins)");
}

void LiveSession::fatal(std::string_view message) {
  if (state_ == State::closed) return;
  log_->error("call " + session_.call_id + ": " + std::string(message));
  auto events = std::move(events_);
  state_ = State::closed;
  turn_timer_.cancel();
  transport_->close();
  if (events) events->on_error(message, true);
}

// ---------------------------------------------------------------------------------------------------------------
// GPT-Live -> host

void LiveSession::on_websocket_open() {
  if (state_ != State::connecting) return;
  state_ = State::starting;
  start_event_id_ = next_event_id();
  send_json(make_session_start(*config_, session_, format_, start_event_id_));  // the first message, always
}

void LiveSession::on_websocket_failed(std::string_view message) {
  if (state_ == State::closed) return;
  const auto keep_alive = weak_from_this().lock();  // the host may drop its session inside on_error
  fatal(state_ == State::connecting ? std::string(message) : std::string(message) + " during the call");
}

void LiveSession::on_websocket_message(std::string_view text) {
  if (state_ == State::closed) return;
  const auto keep_alive = weak_from_this().lock();  // a host callback may drop the last reference to this session
  FlatEvent flat;
  if (scan_flat_event(text, flat) && flat.type == "session.output_audio.delta") {
    on_audio_delta(flat.delta);  // the hot path: no JSON tree, no allocation
    return;
  }
  json event = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded() || !event.is_object() || !event.contains("type") || !event["type"].is_string()) {
    log_->warning("call " + session_.call_id + ": ignoring a malformed event from GPT-Live: " + shorten(text));
    return;
  }
  try {
    handle_event(event);
  } catch (const json::exception& e) {  // a field of an unexpected type: log it, keep the call going
    log_->warning("call " + session_.call_id + ": ignoring an event with unexpected fields (" + e.what() +
                  "): " + shorten(text));
  }
}

void LiveSession::handle_event(const json& event) {
  const std::string type = event["type"].get<std::string>();
  if (type == "session.output_audio.delta") {
    on_audio_delta(string_field(event, "delta"));
  } else if (type == "session.started") {
    on_session_started();
  } else if (type == "session.input_transcript.delta") {
    on_input_transcript(event);
  } else if (type == "session.output_transcript.delta") {
    if (event.contains("delta") && event["delta"].is_string()) agent_text_ += event["delta"].get_ref<const std::string&>();
  } else if (type == "response.event") {
    on_response_event(event);
  } else if (type == "session.usage.updated") {
    on_usage(object_field(event, "usage"));
  } else if (type == "session.closed") {
    on_session_closed(event);
  } else if (type == "error") {
    on_error_event(event);
  } else if (type == "session.delegation.created") {
    const json& d = object_field(event, "delegation");
    log_->info("call " + session_.call_id + ": GPT-Live delegated to " + string_field(d, "target") + " (" +
               string_field(d, "id") + ")");
  } else if (type == "session.commentary.appended" || type == "session.thinking.appended") {
    log_->debug("call " + session_.call_id + ": GPT-Live took the note (" + type + ")");
  } else if (type == "info") {
    log_->debug("call " + session_.call_id + ": GPT-Live info " + shorten(event.dump()));
  } else {
    log_->debug("call " + session_.call_id + ": ignoring event " + type);
  }
}

void LiveSession::on_session_started() {
  if (state_ != State::starting) return;
  state_ = State::ready;
  log_->info("call " + session_.call_id + ": GPT-Live session started");
  const std::size_t chunk = std::max<std::size_t>(
      1, format_.sample_rate * format_.bytes_per_sample() * kEarlyFlushChunk.count() / 1000);
  for (std::size_t at = 0; at < early_audio_.size(); at += chunk) {
    const std::size_t n = std::min(chunk, early_audio_.size() - at);
    transport_->send(append_writer_.write(std::span<const std::uint8_t>(early_audio_.data() + at, n)));
    input_sent_ += std::chrono::microseconds(n / format_.bytes_per_sample() * 1'000'000ull / format_.sample_rate);
  }
  std::vector<std::uint8_t>().swap(early_audio_);  // a thousand calls must not each keep seconds of audio
  for (const auto& [note, respond_now] : std::exchange(pending_notes_, {})) send_note(note, respond_now);
  if (auto events = events_) events->on_ready();
}

void LiveSession::on_audio_delta(std::string_view base64_audio) {
  if (state_ != State::ready) return;
  const auto now = Clock::now();
  const bool after_gap = !last_output_at_ || now - *last_output_at_ >= config_->output_gap;
  if (suppressing_) {
    if (!after_gap) {  // still the reply the callee talked over
      last_output_at_ = now;
      ++stats_.late_deltas_dropped;
      return;
    }
    suppressing_ = false;
  }
  const std::size_t need = base64::max_decoded_size(base64_audio.size()) + 1;
  if (decoded_.size() < need) decoded_.resize(need);  // grows to the largest delta seen, then reused
  std::size_t offset = 0;
  if (carry_byte_) {
    decoded_[0] = *carry_byte_;
    carry_byte_.reset();
    offset = 1;
  }
  const auto n = base64::decode(base64_audio, std::span<std::uint8_t>(decoded_.data() + offset, need - offset));
  if (!n) {
    log_->warning("call " + session_.call_id + ": an audio delta was not valid base64; skipped");
    return;
  }
  std::size_t total = offset + *n;
  if (format_.bytes_per_sample() == 2 && total % 2 == 1) carry_byte_ = decoded_[--total];  // half a sample
  if (total == 0) return;

  if (after_gap) {
    // Agent audio starting after silence: the model has taken its turn, so the callee's utterance is over.
    ++segments_;
    std::snprintf(segment_id_.data(), segment_id_.size(), "agent-%llu", static_cast<unsigned long long>(segments_));
    if (callee_open_) finish_callee_turn();
    if (state_ != State::ready) return;
  }
  last_output_at_ = now;

  AudioFrame frame;
  frame.format = format_;
  frame.bytes = std::span<const std::uint8_t>(decoded_.data(), total);
  frame.timestamp_us = static_cast<std::uint64_t>(playback_.timeline().count());
  playback_.on_audio_sent(std::string_view(segment_id_.data()), frame.duration(), now);
  ++stats_.deltas_played;
  auto events = events_;
  if (!events) return;
  if (awaiting_reply_since_) {
    VoiceMetrics metrics;
    metrics.response_latency = std::chrono::duration_cast<std::chrono::microseconds>(now - *awaiting_reply_since_);
    awaiting_reply_since_.reset();
    events->on_metrics(metrics);
    if (state_ != State::ready) return;
  }
  events->on_audio(frame);
}

void LiveSession::on_input_transcript(const json& event) {
  const std::string delta = string_field(event, "delta");
  const auto now = Clock::now();
  if (!callee_open_) {
    if (trimmed(delta).empty()) return;  // noise: no words, no turn
    callee_open_ = true;
    callee_text_.clear();
    awaiting_reply_since_.reset();
    ++stats_.callee_turns;
    const bool barge_in = playback_.has_unplayed(now);
    auto events = events_;
    if (events) events->on_callee_speech_started();
    if (state_ != State::ready) return;
    if (barge_in) {
      // The callee talks over agent audio still unplayed on the line: the line drops it, and what is left of that
      // reply (deltas already on the wire) is dropped here until the output goes quiet.
      const auto cut = playback_.interrupt(now);
      ++stats_.interruptions;
      suppressing_ = true;
      last_output_at_ = now;
      log_->info("call " + session_.call_id + ": barge-in; the callee heard " +
                 std::to_string(cut ? cut->audio_end_ms : 0) + " ms of the agent's reply");
      if (events) events->on_interruption();
      if (state_ != State::ready) return;
    }
    flush_agent_transcript(barge_in);
    if (state_ != State::ready) return;
  }
  callee_text_ += delta;
  callee_last_delta_at_ = now;
  // When the callee's last word reached GPT-Live: end_ms on the session timeline, which runs with the callee audio
  // sent (streamed at 1x), so it was (audio sent since then) ago.
  if (event.contains("end_ms") && event["end_ms"].is_number()) {
    const auto end = std::chrono::microseconds(static_cast<std::int64_t>(event["end_ms"].get<double>() * 1000));
    const auto behind = std::clamp(input_sent_ - end, std::chrono::microseconds(0), std::chrono::microseconds(2'000'000));
    callee_stopped_at_ = now - behind;
  } else {
    callee_stopped_at_ = now;
  }
  arm_turn_timer();
}

void LiveSession::arm_turn_timer() { turn_timer_.start_after(config_->callee_turn_gap); }

void LiveSession::on_turn_timer() {
  auto self = shared_from_this();  // the host may let go of the session inside the events finish_callee_turn calls
  if (state_ != State::ready || !callee_open_) return;
  // Deltas that came in since the timer was armed push the end of the turn back.
  const auto quiet = Clock::now() - callee_last_delta_at_;
  if (quiet < config_->callee_turn_gap) {
    turn_timer_.start_after(config_->callee_turn_gap - quiet);
    return;
  }
  finish_callee_turn();
}

void LiveSession::finish_callee_turn() {
  callee_open_ = false;
  turn_timer_.cancel();
  awaiting_reply_since_ = callee_stopped_at_ ? *callee_stopped_at_ : Clock::now();
  const std::string text = trimmed(callee_text_);
  auto events = events_;
  if (!events) return;
  events->on_callee_speech_stopped();
  if (state_ != State::ready) return;
  if (!text.empty()) events->on_transcript(Speaker::callee, text);
}

void LiveSession::flush_agent_transcript(bool interrupted) {
  std::string text = trimmed(agent_text_);
  agent_text_.clear();
  if (text.empty()) return;
  if (interrupted) text += " [interrupted]";  // generated, but the callee did not hear all of it
  if (auto events = events_) events->on_transcript(Speaker::agent, text);
}

void LiveSession::on_response_event(const json& outer) {
  const json& event = object_field(outer, "event");
  const std::string type = string_field(event, "type");
  const std::string delegation = string_field(outer, "delegation_id");
  if (type == "response.output_item.done") {
    const json& item = object_field(event, "item");
    if (string_field(item, "type") == "function_call") on_function_call(item, delegation);
  } else if (type == "response.completed" || type == "response.incomplete" || type == "response.failed") {
    if (type == "response.failed") {
      const json& error = object_field(object_field(event, "response"), "error");
      const std::string message = "GPT-Live's backend (" + config_->backend_model + ") failed a delegated task: " +
                                  (string_field(error, "message").empty() ? std::string("no detail")
                                                                          : string_field(error, "message"));
      log_->warning("call " + session_.call_id + ": " + message);
      if (auto events = events_) events->on_error(message, false);
      if (state_ != State::ready) return;
    }
    if (delegation == tools_delegation_ && !tools_response_done_) {
      tools_response_done_ = true;
      continue_after_tools();
    }
  } else if (type == "error") {
    const std::string message = "GPT-Live's backend reported an error: " + string_field(event, "message");
    log_->warning("call " + session_.call_id + ": " + message);
    if (auto events = events_) events->on_error(message, false);
  }
}

void LiveSession::on_function_call(const json& item, const std::string& delegation_id) {
  flush_agent_transcript(false);  // what the agent said before it acted, in order
  if (state_ != State::ready) return;
  if (delegation_id != tools_delegation_ || tools_response_done_) {
    tools_delegation_ = delegation_id;
    tools_response_done_ = false;
  }
  ToolCall call;
  call.id = string_field(item, "call_id");
  call.name = string_field(item, "name");
  const std::string arguments = string_field(item, "arguments");
  json parsed = json::parse(arguments.empty() ? std::string("{}") : arguments, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    // Tell the backend model, which can try again, rather than the agent, which cannot use half a call.
    log_->warning("call " + session_.call_id + ": tool call " + call.name + " had arguments that are not a JSON "
                  "object: " + shorten(arguments));
    send_json(make_function_call_output(call.id, json{{"ok", false}, {"error", "arguments must be a JSON object"}}.dump(),
                                        next_event_id()));
    tools_answered_ = true;
    continue_after_tools();
    return;
  }
  call.arguments = std::move(parsed);
  log_->info("call " + session_.call_id + ": tool call " + call.name + " " + call.arguments.dump());
  ++tools_outstanding_;
  if (auto events = events_) events->on_tool_call(call);
}

void LiveSession::on_usage(const json& usage) {
  if (!usage.contains("seconds") || !usage["seconds"].is_number()) return;
  // Cumulative: the latest value replaces the previous one, never adds to it; the host is told the increase.
  const double total = usage["seconds"].get<double>();
  if (total <= stats_.audio_seconds) return;
  VoiceMetrics metrics;
  metrics.audio_seconds = total - stats_.audio_seconds;
  stats_.audio_seconds = total;
  if (auto events = events_) events->on_metrics(metrics);
}

void LiveSession::on_error_event(const json& event) {
  const json& error = object_field(event, "error");
  const std::string code = string_field(error, "code");
  const std::string message = string_field(error, "message");
  const std::string client_event_id = string_field(error, "client_event_id");
  std::string text = "GPT-Live error";
  if (!code.empty()) text += " " + code;
  text += ": " + (message.empty() ? std::string("(no message)") : message);
  const std::string param = string_field(error, "param");
  if (!param.empty()) text += " (param " + param + ")";
  // A refused session.start leaves no session at all.
  if (state_ == State::starting) return fatal(text + "; the session could not be started");
  log_->warning("call " + session_.call_id + ": " + text);
  if (auto events = events_) events->on_error(text, false);
}

void LiveSession::on_session_closed(const json& event) {
  on_usage(object_field(event, "usage"));
  const std::string reason = string_field(event, "reason");
  fatal(close_reason_text(reason));
}

}  // namespace concierge::openai_live
