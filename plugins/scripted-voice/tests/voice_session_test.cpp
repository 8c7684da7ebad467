// The scripted voice session on its own, driven through the VoiceSession / VoiceSessionEvents interfaces.
#include <gtest/gtest.h>

#include <functional>

#include "concierge/mulaw.hpp"
#include "conversation_harness.hpp"
#include "scripted_voice.hpp"
#include "concierge/speech/speech_signal.hpp"

namespace concierge::scripted {
namespace {

using namespace std::chrono;
using Clock = steady_clock;

class RecordingEvents : public VoiceSessionEvents {
 public:
  struct Chunk {
    AudioFormat format;
    std::size_t bytes;
    std::uint64_t timestamp_us;
    Clock::time_point at;
  };
  void on_ready() override { ready = true; }
  void on_audio(const AudioFrame& frame) override {
    chunks.push_back({frame.format, frame.bytes.size(), frame.timestamp_us, Clock::now()});
  }
  void on_callee_speech_started() override { log.push_back("speech_started"); }
  void on_callee_speech_stopped() override { log.push_back("speech_stopped"); }
  void on_interruption() override { log.push_back("interruption"); }
  void on_transcript(Speaker speaker, std::string_view text) override {
    log.push_back(std::string(to_string(speaker)) + ": " + std::string(text));
    if (speaker == Speaker::agent) agent_said.push_back({std::string(text), chunks.size()});
  }
  void on_tool_call(const ToolCall& call) override { tool_calls.push_back(call); }
  void on_metrics(const VoiceMetrics& m) override {
    if (m.response_latency) latencies.push_back(*m.response_latency);
  }
  void on_error(std::string_view message, bool fatal) override { errors.push_back({std::string(message), fatal}); }

  bool ready = false;
  std::vector<Chunk> chunks;
  std::vector<std::string> log;
  std::vector<std::pair<std::string, std::size_t>> agent_said;  // text, chunks delivered before it
  std::vector<ToolCall> tool_calls;
  std::vector<microseconds> latencies;
  std::vector<std::pair<std::string, bool>> errors;
  bool has(std::string_view entry) const { return std::find(log.begin(), log.end(), entry) != log.end(); }
};

class VoiceSessionTest : public ::testing::Test {
 protected:
  void open(VoiceSettings settings = {}, nlohmann::json task = testing::demo_task()) {
    if (settings.speed_up == 1.0) settings.speed_up = 20;
    model_ = std::make_unique<ScriptedVoiceModel>(host_.loop(), logger_, settings);
    events_ = std::make_shared<RecordingEvents>();
    VoiceSessionConfig config;
    config.call_id = "c1";
    config.task = std::move(task);
    config.tools = {{"confirm_reservation", "", {}}, {"end_call", "", {}}};
    session_ = model_->open_session(config, events_);
  }
  bool run_until(const std::function<bool()>& done, milliseconds limit = milliseconds(4000)) {
    const auto end = Clock::now() + limit;
    while (!done() && Clock::now() < end) {
      host_.io().restart();
      host_.io().run_for(milliseconds(1));
    }
    return done();
  }
  // Callee audio: `text` as synthetic speech (or silence), 20 ms mu-law frames fed straight in.
  void feed_callee(std::string_view text, milliseconds trailing_silence = milliseconds(600)) {
    std::vector<std::int16_t> pcm;
    if (!text.empty()) sim::render_speech(text, sim::SpeechVoice{210, 170, 0.3}, 8000, pcm);
    pcm.resize(pcm.size() + static_cast<std::size_t>(trailing_silence.count()) * 8, 0);
    pcm.resize((pcm.size() + 159) / 160 * 160, 0);
    std::array<std::uint8_t, 160> frame{};
    for (std::size_t i = 0; i < pcm.size(); i += 160) {
      mulaw::encode(std::span<const std::int16_t>(pcm.data() + i, 160), frame);
      session_->send_audio(AudioFrame{AudioFormat::mulaw_8k(), frame, fed_us_});
      fed_us_ += 20'000;
    }
  }
  testing::TestHost host_;
  std::shared_ptr<testing::TestLogger> logger_ = std::make_shared<testing::TestLogger>();
  std::unique_ptr<ScriptedVoiceModel> model_;
  std::shared_ptr<RecordingEvents> events_;
  std::shared_ptr<VoiceSession> session_;
  std::uint64_t fed_us_ = 0;
};

TEST_F(VoiceSessionTest, ReadyIsPostedAndABadTaskIsAFatalError) {
  open();
  EXPECT_FALSE(events_->ready);
  ASSERT_TRUE(run_until([&] { return events_->ready; }));
  open({}, nlohmann::json{{"restaurant", "X"}});
  ASSERT_TRUE(run_until([&] { return !events_->errors.empty(); }));
  EXPECT_TRUE(events_->errors[0].second);
  EXPECT_NE(events_->errors[0].first.find("task"), std::string::npos);
  EXPECT_FALSE(events_->ready);
}

TEST_F(VoiceSessionTest, SpeaksInPacedChunksThenGivesTheTranscript) {
  open();
  ASSERT_TRUE(run_until([&] { return events_->ready; }));
  const auto heard = Clock::now();
  session_->on_simulated_callee_text("Thank you for calling Demo Restaurant, how can I help you?");
  ASSERT_TRUE(run_until([&] { return !events_->agent_said.empty(); }));
  const auto& chunks = events_->chunks;
  ASSERT_GT(chunks.size(), 10u);
  std::uint64_t expected_ts = 0;
  for (const auto& c : chunks) {
    EXPECT_EQ(c.format, AudioFormat::pcm16_at(24000));
    EXPECT_LE(c.bytes, 4800u);  // 100 ms at 24 kHz
    EXPECT_EQ(c.timestamp_us, expected_ts);
    expected_ts += c.bytes / 2 * 1'000'000ull / 24000;
  }
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) EXPECT_EQ(chunks[i].bytes, 4800u);
  // The transcript comes after the last chunk, with the words the policy chose.
  EXPECT_EQ(events_->agent_said[0].second, chunks.size());
  EXPECT_EQ(events_->agent_said[0].first,
            "Hi, I'd like to book a table for 4 people on Wednesday, November 25 at 7 PM, please.");
  // Audio length follows the words; delivery is faster than real time but spread out, not dumped at once:
  // 300 ms latency + duration / 4, all divided by speed_up 20.
  const double audio_s = expected_ts / 1e6;
  EXPECT_GT(audio_s, 3.0);
  const double first_ms = duration<double, std::milli>(chunks.front().at - heard).count();
  EXPECT_GE(first_ms, 300.0 / 20 - 1);  // never early; how late depends on the machine's load, so no upper bound
  // Chunk k is never early: 300 ms + k * 25 ms simulated (100 ms chunks at 4x real time), divided by speed_up 20.
  auto ms_after_heard = [&](Clock::time_point at) { return duration<double, std::milli>(at - heard).count(); };
  for (std::size_t k = 0; k < chunks.size(); ++k)
    EXPECT_GE(ms_after_heard(chunks[k].at), (300.0 + 25.0 * k) / 20 - 0.5) << k;
  // Faster than it plays is the schedule above (25 ms of wall per 100 ms chunk, scaled): a wall-clock upper bound
  // would measure the machine's load, not the session.
}

TEST_F(VoiceSessionTest, VadReportsCalleeSpeechAndLatencyIsMeasuredFromItsEnd) {
  open();
  ASSERT_TRUE(run_until([&] { return events_->ready; }));
  feed_callee("", milliseconds(200));
  EXPECT_TRUE(events_->log.empty());
  feed_callee("Thank you for calling Demo Restaurant, how can I help you?");
  EXPECT_EQ(events_->log, (std::vector<std::string>{"speech_started", "speech_stopped"}));
  session_->on_simulated_callee_text("Thank you for calling Demo Restaurant, how can I help you?");
  ASSERT_TRUE(run_until([&] { return !events_->agent_said.empty(); }));
  ASSERT_EQ(events_->latencies.size(), 1u);
  EXPECT_GE(events_->latencies[0], milliseconds(250));
  // Measured in simulated time (wall x 20): a 50 ms stall of a busy machine is a second here, so only a generous
  // "eventually" bound.
  EXPECT_LT(events_->latencies[0], seconds(20));
}

TEST_F(VoiceSessionTest, WaitsForTheEndOfTheCalleesTurnBeforeAnswering) {
  open();
  ASSERT_TRUE(run_until([&] { return events_->ready; }));
  feed_callee("Thank you for calling Demo Restaurant.", milliseconds(0));  // still "speaking" per the VAD
  session_->on_simulated_callee_text("Thank you for calling Demo Restaurant.");
  run_until([&] { return false; }, milliseconds(50));  // 1 s simulated
  EXPECT_TRUE(events_->chunks.empty()) << "answered while the callee's turn was still open";
  feed_callee("", milliseconds(500));
  ASSERT_TRUE(run_until([&] { return !events_->chunks.empty(); }));
}

TEST_F(VoiceSessionTest, CalleeTalkingOverTheAgentInterruptsIt) {
  open();
  ASSERT_TRUE(run_until([&] { return events_->ready; }));
  session_->on_simulated_callee_text("Demo Restaurant, how can I help you?");
  ASSERT_TRUE(run_until([&] { return events_->chunks.size() >= 3; }));
  // The line reports 800 ms played (of about 7 s), then the callee starts talking.
  session_->on_playback_progress(milliseconds(800));
  feed_callee("Sorry, can you hold on one second?", milliseconds(0));
  ASSERT_TRUE(events_->has("interruption"));
  const auto chunks_at_interruption = events_->chunks.size();
  run_until([&] { return false; }, milliseconds(100));
  EXPECT_EQ(events_->chunks.size(), chunks_at_interruption) << "kept talking after the interruption";
  ASSERT_FALSE(events_->agent_said.empty()) << ::testing::PrintToString(events_->log);
  EXPECT_TRUE(events_->agent_said.back().first.ends_with("...")) << events_->agent_said.back().first;
  EXPECT_LT(events_->agent_said.back().first.size(), 25u);  // 800 ms of speech is two or three words
  // "Go ahead" brings the whole request again, once the callee's turn is over.
  feed_callee("", milliseconds(500));
  session_->on_simulated_callee_text("Okay, sorry about that, go ahead.");
  ASSERT_TRUE(run_until([&] { return events_->agent_said.size() >= 2; }));
  EXPECT_EQ(events_->agent_said.back().first,
            "Hi, I'd like to book a table for 4 people on Wednesday, November 25 at 7 PM, please.");
}

TEST_F(VoiceSessionTest, NoInterruptionOnceItsAudioHasBeenHeard) {
  open();
  ASSERT_TRUE(run_until([&] { return events_->ready; }));
  session_->on_simulated_callee_text("Demo Restaurant, how can I help you?");
  ASSERT_TRUE(run_until([&] { return !events_->agent_said.empty(); }));
  std::uint64_t total_us = 0;
  for (const auto& c : events_->chunks) total_us += c.bytes / 2 * 1'000'000ull / 24000;
  session_->on_playback_progress(microseconds(total_us));  // the line played all of it
  feed_callee("Let me check.");
  EXPECT_FALSE(events_->has("interruption"));
}

TEST_F(VoiceSessionTest, WaitsForToolResultsBeforeGoingOn) {
  open();
  ASSERT_TRUE(run_until([&] { return events_->ready; }));
  for (std::string text : {"Hello, Demo Restaurant.", "Your confirmation number is four five seven two."}) {
    const auto said = events_->agent_said.size();
    session_->on_simulated_callee_text(text);
    ASSERT_TRUE(run_until([&] { return events_->agent_said.size() > said; }));
  }
  session_->on_simulated_callee_text("Yes, that's right.");
  ASSERT_TRUE(run_until([&] { return !events_->tool_calls.empty(); }));
  const ToolCall confirm = events_->tool_calls[0];
  EXPECT_EQ(confirm.name, "confirm_reservation");
  EXPECT_EQ(confirm.arguments["confirmation_number"], "4572");
  const auto chunks = events_->chunks.size();
  run_until([&] { return false; }, milliseconds(100));
  EXPECT_EQ(events_->chunks.size(), chunks) << "spoke before the tool result";
  EXPECT_EQ(events_->tool_calls.size(), 1u);
  session_->send_tool_result(ToolCall{"not-this-one", "confirm_reservation", {}}, ToolResult{{{"ok", true}}, false});
  run_until([&] { return false; }, milliseconds(30));
  EXPECT_EQ(events_->chunks.size(), chunks);
  session_->send_tool_result(confirm, ToolResult{{{"ok", true}}, false});
  ASSERT_TRUE(run_until([&] { return events_->tool_calls.size() == 2; }));
  EXPECT_EQ(events_->agent_said.back().first, "Perfect, thank you so much. Goodbye!");
  EXPECT_EQ(events_->tool_calls[1].name, "end_call");
  EXPECT_EQ(events_->tool_calls[1].arguments["reason"], "confirmed");
}

TEST_F(VoiceSessionTest, PromptsAfterSilenceAndCloseStopsEverything) {
  VoiceSettings settings;
  settings.speed_up = 50;
  settings.silence_timeout = seconds(2);
  open(settings);
  ASSERT_TRUE(run_until([&] { return !events_->agent_said.empty(); }));
  EXPECT_EQ(events_->agent_said[0].first, "Hello? Is anyone there?");
  session_->close();
  session_->close();
  const auto log_size = events_->log.size();
  run_until([&] { return false; }, milliseconds(150));
  EXPECT_EQ(events_->log.size(), log_size);
}

TEST_F(VoiceSessionTest, OutputFormatsAreHonoured) {
  for (auto format : {AudioFormat::mulaw_8k(), AudioFormat::pcm16_at(16000)}) {
    VoiceSettings settings;
    settings.output_format = format;
    open(settings);
    ASSERT_TRUE(run_until([&] { return events_->ready; }));
    session_->on_simulated_callee_text("Hello?");
    ASSERT_TRUE(run_until([&] { return !events_->agent_said.empty(); }));
    EXPECT_EQ(events_->chunks[0].format, format);
    EXPECT_EQ(events_->chunks[0].bytes, format.sample_rate / 10 * format.bytes_per_sample());
    EXPECT_EQ(session_->output_format(), format);
  }
}

}  // namespace
}  // namespace concierge::scripted
