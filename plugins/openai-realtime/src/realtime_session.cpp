#include "realtime_session.hpp"

#include <algorithm>

#include "concierge/base64.hpp"
#include "concierge/text.hpp"

namespace concierge::openai {
namespace {

using nlohmann::json;

// Past this many unsent messages (~4 s of 20 ms frames) the socket is not keeping up; newer callee audio is dropped
// rather than queued without bound, so the conversation does not drift seconds behind the line.
constexpr std::size_t kMaxBacklog = 200;
constexpr std::size_t kRememberedIds = 8;
constexpr std::chrono::milliseconds kEarlyFlushChunk{100};

// object[key], or null when it is not an object or has no such key. (A const json's operator[] on a missing key is
// undefined behaviour: an event without its "response" object crashed the session; found by realtime_events_fuzz.)
const json& member(const json& object, const char* key) {
  static const json null;
  if (!object.is_object()) return null;
  const auto it = object.find(key);
  return it != object.end() ? *it : null;
}

std::string string_field(const json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::uint64_t uint_field(const json& object, const char* key) {
  if (!object.is_object()) return 0;
  const auto it = object.find(key);
  return it != object.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

std::string shorten(std::string_view text, std::size_t max = 200) {
  return truncate_utf8(text, max);
}

}  // namespace

RealtimeSession::RealtimeSession(std::shared_ptr<const RealtimeConfig> config,
                                 std::shared_ptr<RealtimeTransport> transport, std::shared_ptr<Logger> log,
                                 VoiceSessionConfig session, std::shared_ptr<VoiceSessionEvents> events)
    : config_(std::move(config)),
      transport_(std::move(transport)),
      log_(std::move(log)),
      session_(std::move(session)),
      events_(std::move(events)),
      format_(config_->audio_format()) {
  early_audio_limit_ = format_.sample_rate * format_.bytes_per_sample() * config_->early_audio_limit_ms / 1000;
  // A connect takes well under a second; the buffer grows past that only when it is slow, and is freed once the
  // session is ready (a thousand calls must not each hold seconds of PCM they no longer need).
  early_audio_.reserve(std::min<std::size_t>(early_audio_limit_, format_.sample_rate * format_.bytes_per_sample()));
  decoded_.resize(16 * 1024);  // grows to the largest delta seen
}

RealtimeSession::~RealtimeSession() {
  if (transport_) transport_->close();
}

void RealtimeSession::start() {
  log_->info("call " + session_.call_id + ": connecting to OpenAI Realtime (model " + config_->model + ", voice " +
             config_->voice + ", audio " + format_.to_string() + ")");
  transport_->start(this);
}

std::string RealtimeSession::next_event_id() { return "cc_" + std::to_string(++event_counter_); }

void RealtimeSession::send_json(const json& event) {
  const std::string text = event.dump();
  if (!transport_->send(text)) log_->debug("not connected; dropped " + string_field(event, "type"));
}

void RealtimeSession::send_append(std::span<const std::uint8_t> audio) {
  transport_->send(append_writer_.write(audio));
}

// ---------------------------------------------------------------------------------------------------------------
// Host -> OpenAI

void RealtimeSession::send_audio(const AudioFrame& frame) {
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
  if (state_ != State::ready) {
    if (early_audio_.size() + frame.bytes.size() <= early_audio_limit_)
      early_audio_.insert(early_audio_.end(), frame.bytes.begin(), frame.bytes.end());
    else
      ++stats_.frames_dropped;
    return;
  }
  if (transport_->queued_messages() > kMaxBacklog) {
    if (!warned_backlog_) {
      warned_backlog_ = true;
      log_->warning("call " + session_.call_id + ": the connection to OpenAI is backed up; dropping callee audio");
    }
    ++stats_.frames_dropped;
    return;
  }
  warned_backlog_ = false;
  send_append(frame.bytes);
  ++stats_.frames_sent;
}

void RealtimeSession::send_tool_result(const ToolCall& call, const ToolResult& result) {
  if (state_ == State::closed) return;
  // The output travels as a JSON string, as function_call_output items take it.
  send_json({{"type", "conversation.item.create"},
             {"event_id", next_event_id()},
             {"item", {{"type", "function_call_output"}, {"call_id", call.id}, {"output", result.output.dump()}}}});
  if (tools_outstanding_ > 0) --tools_outstanding_;
  tools_answered_ = true;
  if (result.end_call) end_call_requested_ = true;
  continue_after_tools();
}

void RealtimeSession::continue_after_tools() {
  if (!tools_answered_ || tools_outstanding_ > 0 || !tools_response_done_) return;
  tools_answered_ = false;
  if (end_call_requested_) {
    // The agent ended the call: the model has said its goodbye; another response would only talk over the hang-up.
    log_->info("call " + session_.call_id + ": end_call answered; not asking the model for another response");
    return;
  }
  send_json({{"type", "response.create"}, {"event_id", next_event_id()}});
}

void RealtimeSession::on_playback_progress(std::chrono::microseconds played) {
  playback_.on_playback_progress(played, Clock::now());
}

void RealtimeSession::on_simulated_callee_text(std::string_view) {
  // A real model hears the audio itself; the simulation side-channel is for offline voice models only.
}

void RealtimeSession::on_line_event(const LineEvent& event) {
  if (state_ == State::closed || event.note.empty()) return;
  if (state_ != State::ready) {
    // Before the session is configured (an early answering-machine verdict): told as soon as it is.
    if (pending_notes_.size() < 8) pending_notes_.emplace_back(std::string(event.note), event.respond_now);
    return;
  }
  send_note(event.note, event.respond_now);
  log_->info("call " + session_.call_id + ": told the model of a line event (" + std::string(event.kind) +
             (event.detail.empty() ? "" : " " + std::string(event.detail)) + ")");
}

void RealtimeSession::send_note(std::string_view note, bool respond_now) {
  send_json({{"type", "conversation.item.create"},
             {"event_id", next_event_id()},
             {"item",
              {{"type", "message"},
               {"role", "system"},
               {"content", json::array({{{"type", "input_text"}, {"text", std::string(note)}}})}}}});
  if (respond_now && active_response_id_.empty() && !end_call_requested_)
    send_json({{"type", "response.create"}, {"event_id", next_event_id()}});
}

void RealtimeSession::close() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  events_.reset();
  transport_->close();
  log_->info("call " + session_.call_id + ": OpenAI Realtime session closed (" + std::to_string(stats_.frames_sent) +
             " frames sent, " + std::to_string(stats_.deltas_played) + " deltas played, " +
             std::to_string(stats_.interruptions) + " barge-ins)");
}

void RealtimeSession::fatal(std::string_view message) {
  if (state_ == State::closed) return;
  log_->error("call " + session_.call_id + ": " + std::string(message));
  auto events = std::move(events_);
  state_ = State::closed;
  transport_->close();
  if (events) events->on_error(message, true);
}

// ---------------------------------------------------------------------------------------------------------------
// OpenAI -> host

void RealtimeSession::on_websocket_open() {
  if (state_ != State::connecting) return;
  state_ = State::configuring;
  session_update_event_id_ = next_event_id();
  send_json(make_session_update(*config_, session_, session_update_event_id_));
}

void RealtimeSession::on_websocket_failed(std::string_view message) {
  if (state_ == State::closed) return;
  const auto keep_alive = weak_from_this().lock();  // the host may drop its session inside on_error
  fatal(state_ == State::connecting ? std::string(message) : std::string(message) + " during the call");
}

void RealtimeSession::on_websocket_message(std::string_view text) {
  if (state_ == State::closed) return;
  const auto keep_alive = weak_from_this().lock();  // a host callback may drop the last reference to this session
  FlatEvent flat;
  if (scan_flat_event(text, flat) && flat.type == "response.output_audio.delta") {
    on_audio_delta(flat.response_id, flat.item_id, flat.delta);  // the hot path: no JSON tree, no allocation
    return;
  }
  json event = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded() || !event.is_object() || !event.contains("type") || !event["type"].is_string()) {
    log_->warning("call " + session_.call_id + ": ignoring a malformed event from OpenAI: " + shorten(text));
    return;
  }
  try {
    handle_event(event);
  } catch (const json::exception& e) {  // a field of an unexpected type: log it, keep the call going
    log_->warning("call " + session_.call_id + ": ignoring an event with unexpected fields (" + e.what() +
                  "): " + shorten(text));
  }
}

void RealtimeSession::handle_event(const json& event) {
  const std::string type = event["type"].get<std::string>();
  auto events = events_;  // held for the duration: a callback may close the session
  if (type == "response.output_audio.delta") {
    on_audio_delta(string_field(event, "response_id"), string_field(event, "item_id"), string_field(event, "delta"));
  } else if (type == "session.created") {
    log_->debug("call " + session_.call_id + ": session created (" + string_field(member(event, "session"), "id") +
                ")");
  } else if (type == "session.updated") {
    on_session_updated();
  } else if (type == "input_audio_buffer.speech_started") {
    on_speech_started();
  } else if (type == "input_audio_buffer.speech_stopped") {
    speech_stopped_at_ = Clock::now();  // the response latency runs from here to the reply's first audio
    if (events) events->on_callee_speech_stopped();
  } else if (type == "response.created") {
    active_response_id_ = string_field(member(event, "response"), "id");
  } else if (type == "response.done") {
    on_response_done(event);
  } else if (type == "response.output_audio_transcript.done") {
    on_agent_transcript(event);
  } else if (type == "conversation.item.input_audio_transcription.completed") {
    const std::string transcript = string_field(event, "transcript");
    if (!transcript.empty() && events) events->on_transcript(Speaker::callee, transcript);
  } else if (type == "conversation.item.input_audio_transcription.failed") {
    log_->warning("call " + session_.call_id + ": transcription of the callee failed: " +
                  string_field(member(event, "error"), "message"));
  } else if (type == "response.function_call_arguments.done") {
    on_function_call(event);
  } else if (type == "error") {
    on_error_event(event);
  } else if (type == "rate_limits.updated") {
    if (log_->enabled(LogLevel::debug))
      log_->debug("call " + session_.call_id + ": rate limits " + event.value("rate_limits", json::array()).dump());
  } else if (type == "conversation.item.truncated") {
    log_->debug("call " + session_.call_id + ": item " + string_field(event, "item_id") + " truncated at " +
                std::to_string(uint_field(event, "audio_end_ms")) + " ms");
  } else if (type == "response.output_audio.done" || type == "response.output_audio_transcript.delta" ||
             type == "response.output_item.added" || type == "response.output_item.done" ||
             type == "response.content_part.added" || type == "response.content_part.done" ||
             type == "response.function_call_arguments.delta" || type == "conversation.item.added" ||
             type == "conversation.item.done" || type == "conversation.item.created" ||
             type == "input_audio_buffer.committed" || type == "input_audio_buffer.cleared" ||
             type == "conversation.item.input_audio_transcription.delta" ||
             type == "conversation.item.input_audio_transcription.segment" ||
             type == "output_audio_buffer.cleared" || type == "response.output_text.delta" ||
             type == "response.output_text.done") {
    // Known, and nothing to do: the .done events above carry what the host needs.
  } else {
    log_->debug("call " + session_.call_id + ": ignoring event " + type);
  }
}

void RealtimeSession::on_session_updated() {
  if (state_ != State::configuring) return;
  state_ = State::ready;
  log_->info("call " + session_.call_id + ": OpenAI Realtime session ready");
  // Callee audio that arrived while configuring, in chunks of 100 ms.
  const std::size_t chunk = std::max<std::size_t>(
      1, format_.sample_rate * format_.bytes_per_sample() * kEarlyFlushChunk.count() / 1000);
  for (std::size_t at = 0; at < early_audio_.size(); at += chunk) {
    const std::size_t n = std::min(chunk, early_audio_.size() - at);
    send_append(std::span<const std::uint8_t>(early_audio_.data() + at, n));
  }
  std::vector<std::uint8_t>().swap(early_audio_);
  auto events = events_;
  if (events) events->on_ready();
  if (state_ != State::ready) return;
  if (config_->speak_first) send_json({{"type", "response.create"}, {"event_id", next_event_id()}});
  for (const auto& [note, respond_now] : std::exchange(pending_notes_, {})) send_note(note, respond_now);
}

void RealtimeSession::on_audio_delta(std::string_view response_id, std::string_view item_id,
                                     std::string_view base64_audio) {
  if (is_dropped(response_id, item_id)) {
    ++stats_.late_deltas_dropped;
    return;
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

  AudioFrame frame;
  frame.format = format_;
  frame.bytes = std::span<const std::uint8_t>(decoded_.data(), total);
  frame.timestamp_us = static_cast<std::uint64_t>(playback_.timeline().count());
  const auto now = Clock::now();
  if (speech_stopped_at_) {
    latency_ = std::chrono::duration_cast<std::chrono::microseconds>(now - *speech_stopped_at_);
    latency_response_id_.assign(response_id.data(), response_id.size());
    speech_stopped_at_.reset();
  }
  playback_.on_audio_sent(item_id, frame.duration(), now);
  ++stats_.deltas_played;
  if (auto events = events_) events->on_audio(frame);
}

void RealtimeSession::on_speech_started() {
  if (auto events = events_) events->on_callee_speech_started();
  if (state_ == State::closed) return;
  // interrupt_response: false means the operator wants the agent to finish its sentences; so be it.
  if (!config_->turn_detection.interrupt_response) return;

  const auto cut = playback_.interrupt(Clock::now());
  const bool responding = !active_response_id_.empty();
  if (!cut && !responding) return;  // everything the agent said has been heard: a turn, not a barge-in
  if (cut) {
    ++stats_.interruptions;
    if (auto events = events_) events->on_interruption();  // the host clears the line first: it is what people hear
    if (state_ == State::closed) return;
  }
  if (responding) {
    // The server cancels on its own VAD too (interrupt_response); a cancel that arrives second is answered with
    // response_cancel_not_active, which on_error_event swallows.
    send_json({{"type", "response.cancel"}, {"event_id", next_event_id()}, {"response_id", active_response_id_}});
    remember(dropped_responses_, active_response_id_);
  }
  if (cut) {
    send_json({{"type", "conversation.item.truncate"},
               {"event_id", next_event_id()},
               {"item_id", cut->item_id},
               {"content_index", 0},
               {"audio_end_ms", cut->audio_end_ms}});
    remember(dropped_items_, cut->item_id);
    log_->info("call " + session_.call_id + ": barge-in; item " + cut->item_id + " truncated at " +
               std::to_string(cut->audio_end_ms) + " ms of " +
               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(cut->sent).count()) +
               " ms sent");
  }
}

void RealtimeSession::on_agent_transcript(const json& event) {
  std::string transcript = string_field(event, "transcript");
  if (transcript.empty()) return;
  const std::string item_id = string_field(event, "item_id");
  if (std::find(dropped_items_.begin(), dropped_items_.end(), item_id) != dropped_items_.end() ||
      std::find(dropped_responses_.begin(), dropped_responses_.end(), string_field(event, "response_id")) !=
          dropped_responses_.end())
    transcript += " [interrupted]";  // generated, but the callee did not hear all of it
  if (auto events = events_) events->on_transcript(Speaker::agent, transcript);
}

void RealtimeSession::on_function_call(const json& event) {
  const std::string response_id = string_field(event, "response_id");
  if (response_id != tools_response_id_) {
    tools_response_id_ = response_id;
    tools_response_done_ = false;
  }
  ToolCall call;
  call.id = string_field(event, "call_id");
  call.name = string_field(event, "name");
  const std::string arguments = string_field(event, "arguments");
  json parsed = json::parse(arguments.empty() ? std::string("{}") : arguments, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    // Tell the model, which can try again, rather than the agent, which cannot use half a call.
    log_->warning("call " + session_.call_id + ": tool call " + call.name + " had arguments that are not a JSON "
                  "object: " + shorten(arguments));
    send_json({{"type", "conversation.item.create"},
               {"event_id", next_event_id()},
               {"item",
                {{"type", "function_call_output"},
                 {"call_id", call.id},
                 {"output", json{{"ok", false}, {"error", "arguments must be a JSON object"}}.dump()}}}});
    tools_answered_ = true;
    return;
  }
  call.arguments = std::move(parsed);
  log_->info("call " + session_.call_id + ": tool call " + call.name + " " + call.arguments.dump());
  ++tools_outstanding_;
  if (auto events = events_) events->on_tool_call(call);
}

void RealtimeSession::on_response_done(const json& event) {
  const json& response = event.contains("response") ? event["response"] : json::object();
  const std::string id = string_field(response, "id");
  const std::string status = string_field(response, "status");
  if (id == active_response_id_) active_response_id_.clear();

  VoiceMetrics metrics;
  if (response.contains("usage") && response["usage"].is_object()) {
    metrics.input_tokens = uint_field(response["usage"], "input_tokens");
    metrics.output_tokens = uint_field(response["usage"], "output_tokens");
  }
  if (latency_ && latency_response_id_ == id) {
    metrics.response_latency = latency_;
    latency_.reset();
  }
  auto events = events_;
  if (events) events->on_metrics(metrics);
  if (state_ == State::closed) return;

  if (status == "failed") {
    std::string message = "a response failed";
    if (response.contains("status_details") && response["status_details"].is_object() &&
        response["status_details"].contains("error"))
      message += ": " + string_field(response["status_details"]["error"], "message");
    log_->warning("call " + session_.call_id + ": " + message);
    if (events) events->on_error("OpenAI Realtime: " + message, false);
    if (state_ == State::closed) return;
  }
  if (!tools_response_id_.empty() && id == tools_response_id_) {
    tools_response_done_ = true;
    continue_after_tools();
  }
}

void RealtimeSession::on_error_event(const json& event) {
  const json& error = event.contains("error") ? event["error"] : json::object();
  const std::string code = string_field(error, "code");
  const std::string message = string_field(error, "message");
  const std::string event_id = string_field(error, "event_id");
  if (code == "response_cancel_not_active") {
    log_->debug("call " + session_.call_id + ": the server had already cancelled the response");
    return;
  }
  std::string text = "OpenAI Realtime error";
  if (!code.empty()) text += " " + code;
  text += ": " + (message.empty() ? std::string("(no message)") : message);
  const std::string param = string_field(error, "param");
  if (!param.empty()) text += " (param " + param + ")";
  // A refused session.update leaves a session in an unknown format with unknown instructions: unusable.
  if (state_ != State::ready && !session_update_event_id_.empty() && event_id == session_update_event_id_)
    return fatal(text + "; the session could not be configured");
  log_->warning("call " + session_.call_id + ": " + text);
  if (auto events = events_) events->on_error(text, false);
}

bool RealtimeSession::is_dropped(std::string_view response_id, std::string_view item_id) const {
  for (const auto& id : dropped_responses_)
    if (id == response_id) return true;
  for (const auto& id : dropped_items_)
    if (id == item_id) return true;
  return false;
}

void RealtimeSession::remember(std::vector<std::string>& ids, std::string_view id) {
  if (id.empty() || std::find(ids.begin(), ids.end(), id) != ids.end()) return;
  if (ids.size() >= kRememberedIds) ids.erase(ids.begin());
  ids.emplace_back(id);
}

}  // namespace concierge::openai
