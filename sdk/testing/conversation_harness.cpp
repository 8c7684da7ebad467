#include "conversation_harness.hpp"

#include <cstdio>

#include "concierge/mulaw.hpp"

namespace concierge::testing {
namespace {

using namespace std::chrono;

std::vector<ToolDefinition> default_tools() {
  return {{"confirm_reservation", "Record the booking the restaurant confirmed.",
           {{"type", "object"},
            {"properties",
             {{"confirmation_number", {{"type", "string"}}},
              {"date", {{"type", "string"}}},
              {"time", {{"type", "string"}}},
              {"party_size", {{"type", "integer"}}}}},
            {"required", {"confirmation_number", "date", "time", "party_size"}}}},
          {"end_call", "End the call.",
           {{"type", "object"},
            {"properties", {{"reason", {{"type", "string"}}}, {"summary", {{"type", "string"}}}}},
            {"required", {"reason", "summary"}}}}};
}

class Bridge {
 public:
  Bridge(TestHost& host, VoiceModel& voice, const ConversationSetup& setup, ConversationResult& result)
      : host_(host), voice_(voice), setup_(setup), result_(result) {}

  // ---- the line's events ----
  void on_status(const CallStatusUpdate& update) {
    result_.statuses.push_back(update.status);
    result_.final_reason = update.reason;
    if (update.duration_seconds) result_.duration_seconds = update.duration_seconds;
    if (is_terminal(update.status)) {
      if (session_) session_->close();
      boost::asio::post(host_.io(), [&io = host_.io()] { io.stop(); });
    }
  }
  void on_media_started(AudioFormat line_format) {
    line_format_ = line_format;
    VoiceSessionConfig config;
    config.call_id = "test-call";
    config.instructions = "Book the table described in the task.";
    config.tools = setup_.tools.empty() ? default_tools() : setup_.tools;
    config.task = setup_.task;
    config.line_format = line_format;
    session_ = voice_.open_session(config, voice_events_);
    inbound_.emplace(line_format, session_->input_format());
    outbound_.emplace(session_->output_format(), line_format);
  }
  void on_line_audio(const AudioFrame& frame) {
    ++result_.callee_frames;
    if (!session_ || !ready_) return;
    const AudioFormat want = session_->input_format();
    if (want == frame.format) return session_->send_audio(frame);
    inbound_pcm_.clear();
    inbound_->to_pcm(frame, inbound_pcm_);
    if (inbound_pcm_.empty()) return;
    AudioFrame converted{want, {}, frame.timestamp_us};
    if (want.encoding == AudioEncoding::mulaw) {
      inbound_bytes_.resize(inbound_pcm_.size());
      mulaw::encode(inbound_pcm_, inbound_bytes_);
      converted.bytes = inbound_bytes_;
    } else {
      converted.bytes = {reinterpret_cast<const std::uint8_t*>(inbound_pcm_.data()), inbound_pcm_.size() * 2};
    }
    session_->send_audio(converted);
  }
  void on_playback_progress(microseconds played) {
    played_ = played;
    if (session_) session_->on_playback_progress(played);
    maybe_hang_up();
  }
  void on_callee_text(std::string_view text) {
    if (session_) session_->on_simulated_callee_text(text);
  }

  // ---- the voice session's events ----
  void on_ready() { ready_ = true; }
  void on_voice_audio(const AudioFrame& frame) {
    outbound_->to_pcm(frame, outbound_pcm_);  // appends; whole 20 ms frames go out, the rest waits for more
    std::size_t sent = 0;
    const std::size_t frame_samples = samples_per_frame(line_format_.sample_rate);
    while (outbound_pcm_.size() - sent >= frame_samples) send_line_frame(sent, frame_samples), sent += frame_samples;
    outbound_pcm_.erase(outbound_pcm_.begin(), outbound_pcm_.begin() + static_cast<std::ptrdiff_t>(sent));
  }
  void on_interruption() {
    ++result_.interruptions;
    outbound_pcm_.clear();
    // What was sent but not played is dropped by the line; only what it played counts from now on.
    agent_sent_ = played_;
    if (leg_) leg_->clear_audio();
  }
  void on_transcript(Speaker speaker, std::string_view text) {
    result_.transcript.push_back({speaker, std::string(text)});
    if (speaker != Speaker::agent) return;
    // The end of an utterance: the partial last frame goes out padded, so no word is lost in the reframer.
    if (!outbound_pcm_.empty()) {
      const std::size_t frame_samples = samples_per_frame(line_format_.sample_rate);
      outbound_pcm_.resize(frame_samples, 0);
      send_line_frame(0, frame_samples);
      outbound_pcm_.clear();
    }
    if (leg_) leg_->on_simulated_agent_text(text);
  }
  void on_tool_call(const ToolCall& call) {
    result_.tool_calls.push_back(call);
    ToolResult tool_result;
    if (call.name == "confirm_reservation") {
      const auto& a = call.arguments;
      const bool ok = a.contains("confirmation_number") && a["confirmation_number"].is_string() &&
                      a.contains("date") && a.contains("time") && a.contains("party_size");
      if (ok) result_.booking = a;
      tool_result.output = ok ? nlohmann::json{{"ok", true}}
                              : nlohmann::json{{"ok", false}, {"error", "missing arguments"}};
    } else if (call.name == "end_call") {
      result_.end_reason = call.arguments.value("reason", "");
      tool_result.output = {{"ok", true}};
      tool_result.end_call = true;
      end_requested_ = true;
    } else {
      tool_result.output = {{"ok", false}, {"error", "unknown tool"}};
    }
    // Answered from inside on_tool_call, which the SDK allows: the session must cope.
    session_->send_tool_result(call, tool_result);
    maybe_hang_up();
  }
  void on_metrics(const VoiceMetrics& metrics) {
    if (metrics.response_latency) result_.response_latencies.push_back(*metrics.response_latency);
  }
  void on_error(std::string_view message, bool fatal) {
    result_.errors.emplace_back(message);
    if (fatal && leg_) leg_->hang_up();
  }

  void send_line_frame(std::size_t offset, std::size_t samples) {
    std::array<std::uint8_t, 160> bytes{};
    mulaw::encode(std::span<const std::int16_t>(outbound_pcm_.data() + offset, samples), bytes);
    leg_->send_audio(AudioFrame{line_format_, std::span<const std::uint8_t>(bytes.data(), samples),
                                static_cast<std::uint64_t>(agent_sent_.count())});
    agent_sent_ += kTelephonyFrameDuration;
    ++result_.agent_frames;
  }
  // Like the host: after end_call, hang up once the line has played every agent frame sent.
  void maybe_hang_up() {
    if (end_requested_ && leg_ && played_ >= agent_sent_) leg_->hang_up();
  }

  std::shared_ptr<CallLeg> leg_;
  std::shared_ptr<CallEvents> line_events_;
  std::shared_ptr<VoiceSessionEvents> voice_events_;
  std::shared_ptr<VoiceSession> session_;

 private:
  TestHost& host_;
  VoiceModel& voice_;
  const ConversationSetup& setup_;
  ConversationResult& result_;
  AudioFormat line_format_ = AudioFormat::mulaw_8k();
  bool ready_ = false;
  bool end_requested_ = false;
  microseconds played_{0};
  microseconds agent_sent_{0};
  std::optional<FormatConverter> inbound_;
  std::optional<FormatConverter> outbound_;
  std::vector<std::int16_t> inbound_pcm_;
  std::vector<std::uint8_t> inbound_bytes_;
  std::vector<std::int16_t> outbound_pcm_;
};

class LineSide : public CallEvents {
 public:
  explicit LineSide(Bridge& b) : b_(b) {}
  void on_provider_call_id(std::string_view id) override { provider_id = std::string(id); }
  void on_status(const CallStatusUpdate& update) override { b_.on_status(update); }
  void on_media_started(AudioFormat format) override { b_.on_media_started(format); }
  void on_audio(const AudioFrame& frame) override { b_.on_line_audio(frame); }
  void on_playback_progress(microseconds played) override { b_.on_playback_progress(played); }
  void on_dtmf(char) override {}
  void on_media_stopped(std::string_view) override {}
  void on_simulated_callee_text(std::string_view text) override { b_.on_callee_text(text); }
  std::string provider_id;

 private:
  Bridge& b_;
};

class VoiceSide : public VoiceSessionEvents {
 public:
  VoiceSide(Bridge& b, ConversationResult& r) : b_(b), r_(r) {}
  void on_ready() override { b_.on_ready(); }
  void on_audio(const AudioFrame& frame) override { b_.on_voice_audio(frame); }
  void on_callee_speech_started() override { ++r_.speech_started; }
  void on_callee_speech_stopped() override { ++r_.speech_stopped; }
  void on_interruption() override { b_.on_interruption(); }
  void on_transcript(Speaker speaker, std::string_view text) override { b_.on_transcript(speaker, text); }
  void on_tool_call(const ToolCall& call) override { b_.on_tool_call(call); }
  void on_metrics(const VoiceMetrics& metrics) override { b_.on_metrics(metrics); }
  void on_error(std::string_view message, bool fatal) override { b_.on_error(message, fatal); }

 private:
  Bridge& b_;
  ConversationResult& r_;
};

}  // namespace

void TestLogger::write(LogLevel level, std::string_view message) {
  lines.emplace_back(message);
  if (level >= LogLevel::warning) std::fprintf(stderr, "[%s] %.*s\n", std::string(to_string(level)).c_str(),
                                               static_cast<int>(message.size()), message.data());
}

FormatConverter::FormatConverter(AudioFormat from, AudioFormat to) : from_(from), to_(to) {
  if (from.sample_rate != to.sample_rate) resampler_.emplace(from.sample_rate, to.sample_rate);
}

void FormatConverter::to_pcm(const AudioFrame& in, std::vector<std::int16_t>& out_pcm) {
  std::span<const std::int16_t> pcm;
  if (in.format.encoding == AudioEncoding::mulaw) {
    decoded_.resize(in.bytes.size());
    mulaw::decode(in.bytes, decoded_);
    pcm = decoded_;
  } else {
    pcm = in.pcm16();
  }
  if (!resampler_) {
    out_pcm.insert(out_pcm.end(), pcm.begin(), pcm.end());
    return;
  }
  resampled_.resize(resampler_->max_output(pcm.size()));
  const std::size_t n = resampler_->process(pcm, resampled_);
  out_pcm.insert(out_pcm.end(), resampled_.begin(), resampled_.begin() + static_cast<std::ptrdiff_t>(n));
}

std::string ConversationResult::transcript_text() const {
  std::string out;
  for (const auto& line : transcript) out += std::string(to_string(line.speaker)) + ": " + line.text + "\n";
  return out;
}

nlohmann::json demo_task() {
  return {{"restaurant", "Demo Restaurant"},   {"phone_number", "+15550000000"},
          {"date", "2026-11-25"},              {"date_spoken", "Wednesday, November 25"},
          {"time", "19:00"},                   {"time_spoken", "7 PM"},
          {"party_size", 4},                   {"customer_name", "Alex Morgan"},
          {"customer_phone", "+15551230000"},  {"time_tolerance_minutes", 60},
          {"special_requests", ""}};
}

ConversationResult run_conversation(TestHost& host, TelephonyProvider& telephony, VoiceModel& voice,
                                    const ConversationSetup& setup) {
  ConversationResult result;
  Bridge bridge(host, voice, setup, result);
  auto line_side = std::make_shared<LineSide>(bridge);
  bridge.voice_events_ = std::make_shared<VoiceSide>(bridge, result);
  const auto started = steady_clock::now();

  boost::asio::steady_timer deadline(host.io());
  deadline.expires_after(setup.wall_limit);
  deadline.async_wait([&](const boost::system::error_code& error) {
    if (error) return;
    result.timed_out = true;
    if (bridge.leg_) bridge.leg_->hang_up();
    host.io().stop();
  });

  OutboundCall call{"test-call", setup.number, "Demo Restaurant", seconds(30)};
  bridge.leg_ = telephony.place_call(call, line_side);
  host.io().restart();
  host.io().run();
  deadline.cancel();

  if (bridge.session_) bridge.session_->close();
  if (bridge.leg_) bridge.leg_->hang_up();  // idempotent; frees the line's reference to line_side
  result.provider_call_id = line_side->provider_id;
  result.wall = duration_cast<milliseconds>(steady_clock::now() - started);
  // Handlers still queued (cancelled timers) must run before the bridge they may point to goes away.
  host.io().restart();
  host.io().poll();
  return result;
}

}  // namespace concierge::testing
