// The simulated line on its own, driven through the CallLeg / CallEvents interfaces like the host drives it.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "concierge/mulaw.hpp"
#include "conversation_harness.hpp"
#include "concierge/speech/energy_vad.hpp"
#include "simulated_line.hpp"
#include "concierge/speech/speech_signal.hpp"

namespace concierge::sim {
namespace {

using namespace std::chrono;
using Clock = steady_clock;

struct RecordedFrame {
  std::uint64_t timestamp_us;
  std::size_t bytes;
  double level_dbfs;
  Clock::time_point at;
};

class RecordingEvents : public CallEvents {
 public:
  void on_provider_call_id(std::string_view id) override { provider_id = std::string(id); }
  void on_status(const CallStatusUpdate& update) override {
    statuses.push_back(update.status);
    last_update = update;
  }
  void on_media_started(AudioFormat format) override { media_format = format; }
  void on_audio(const AudioFrame& frame) override {
    EXPECT_EQ(frame.format, AudioFormat::mulaw_8k());
    std::array<std::int16_t, 160> pcm{};
    const auto n = mulaw::decode(frame.bytes.first(std::min<std::size_t>(160, frame.bytes.size())), pcm);
    frames.push_back({frame.timestamp_us, frame.bytes.size(),
                      EnergyVad::level_dbfs(std::span<const std::int16_t>(pcm.data(), n)), Clock::now()});
  }
  void on_playback_progress(microseconds played) override { progress.push_back(played); }
  void on_dtmf(char) override {}
  void on_media_stopped(std::string_view reason) override { media_stopped = std::string(reason); }
  void on_simulated_callee_text(std::string_view text) override {
    callee_texts.push_back({std::string(text), frames.size()});
  }

  std::string provider_id;
  std::vector<CallStatus> statuses;
  CallStatusUpdate last_update;
  std::optional<AudioFormat> media_format;
  std::vector<RecordedFrame> frames;
  std::vector<microseconds> progress;
  std::optional<std::string> media_stopped;
  std::vector<std::pair<std::string, std::size_t>> callee_texts;  // text, frames received when it arrived
};

class SimulatedLineTest : public ::testing::Test {
 protected:
  void make_line(const std::string& yaml) {
    line_ = std::make_unique<SimulatedTelephony>(host_.loop(), logger_,
                                                 parse_line_settings(ConfigNode(YAML::Load(yaml), "sim")));
  }
  std::shared_ptr<CallLeg> dial(const std::string& number, seconds ring_timeout = seconds(30)) {
    events_ = std::make_shared<RecordingEvents>();
    return line_->place_call(OutboundCall{"call-1", number, "Demo Restaurant", ring_timeout}, events_);
  }
  // Runs the loop until `done` holds or `limit` of wall time passes; returns whether `done` held.
  bool run_until(const std::function<bool()>& done, milliseconds limit = milliseconds(5000)) {
    const auto end = Clock::now() + limit;
    while (!done() && Clock::now() < end) {
      host_.io().restart();
      host_.io().run_for(milliseconds(2));
    }
    return done();
  }
  testing::TestHost host_;
  std::shared_ptr<testing::TestLogger> logger_ = std::make_shared<testing::TestLogger>();
  std::unique_ptr<SimulatedTelephony> line_;
  std::shared_ptr<RecordingEvents> events_;
};

constexpr const char* kConfig = R"(
speed_up: 20
restaurant: {ring_ms: 2000, dial_ms: 400, answer_delay_ms: 600, today: "2026-11-20"}
scenarios:
  "+15550000001": busy
  "+15550000002": no-answer
  "+15550000003": failed
)";

TEST_F(SimulatedLineTest, StatusesFollowTheScenario) {
  make_line(kConfig);
  struct Case {
    std::string number;
    std::vector<CallStatus> expected;
  };
  for (const Case& c : std::vector<Case>{
           {"+15550000001", {CallStatus::dialing, CallStatus::busy}},
           {"+15550000002", {CallStatus::dialing, CallStatus::ringing, CallStatus::no_answer}},
           {"+15550000003", {CallStatus::dialing, CallStatus::failed}},
           {"555-1234", {CallStatus::failed}},
       }) {
    auto leg = dial(c.number, seconds(4));
    auto events = events_;
    EXPECT_TRUE(events->statuses.empty()) << "events are posted, not sent from inside place_call";
    EXPECT_TRUE(run_until([&] { return !events->statuses.empty() && is_terminal(events->statuses.back()); }))
        << c.number;
    EXPECT_EQ(events->statuses, c.expected) << c.number;
    EXPECT_FALSE(events->media_format) << c.number;
    EXPECT_TRUE(events->frames.empty());
    EXPECT_FALSE(events->last_update.reason.empty());
  }
  EXPECT_EQ(events_->last_update.reason.find("invalid phone number"), 0u);
}

TEST_F(SimulatedLineTest, AnswersAfterRingingAndSendsPacedMulawFrames) {
  make_line(kConfig);
  const auto placed = Clock::now();
  auto leg = dial("+15551230000");
  ASSERT_TRUE(run_until([&] { return events_->media_format.has_value(); }));
  const auto answered = Clock::now();
  EXPECT_EQ(events_->statuses, (std::vector<CallStatus>{CallStatus::dialing, CallStatus::ringing,
                                                        CallStatus::in_progress}));
  EXPECT_EQ(events_->provider_id.rfind("SIM-", 0), 0u);
  EXPECT_EQ(*events_->media_format, AudioFormat::mulaw_8k());
  // dial 400 ms + ring 2000 ms simulated at 20x: 120 ms of wall time.
  EXPECT_GE(answered - placed, milliseconds(115));
  EXPECT_LT(answered - placed, seconds(5));  // eventually; how late depends on the machine's load

  // Two simulated seconds of media: 100 frames, 160 bytes each, 20 ms apart in media time, 1 ms apart in wall time.
  ASSERT_TRUE(run_until([&] { return events_->frames.size() >= 100; }));
  const auto& f = events_->frames;
  for (std::size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(f[i].bytes, 160u);
    EXPECT_EQ(f[i].timestamp_us, i * 20'000);
  }
  // Paced, not bursted: 99 ms expected between the first and the last. Frames are scheduled from the answer
  // time, so a late first frame (a busy machine) lets the next ones catch up: allow for that, not for a burst.
  const double wall_ms = duration<double, std::milli>(f[99].at - f[0].at).count();
  EXPECT_GE(wall_ms, 99 * 20.0 / 20 - 30);
  EXPECT_LT(wall_ms, 99 * 20.0 / 20 + 2000);  // and not crawling (generous: the machine is shared)
  leg->hang_up();
}

TEST_F(SimulatedLineTest, GreetingIsSpeechFollowedByItsText) {
  make_line(kConfig);
  auto leg = dial("+15551230000");
  ASSERT_TRUE(run_until([&] { return !events_->callee_texts.empty(); }));
  const auto& [text, frames_before] = events_->callee_texts.front();
  EXPECT_NE(text.find("Thank you for calling Demo Restaurant"), std::string::npos);
  // The answer delay is line noise, then speech; the text arrives right after the utterance's last frame.
  const auto& f = events_->frames;
  for (std::size_t i = 0; i < 25; ++i) EXPECT_LT(f[i].level_dbfs, -55) << i;  // 500 ms of quiet line
  // Most of the utterance is voiced, and it lasts as long as the synthetic voice says.
  std::size_t voiced = 0;
  for (std::size_t i = 0; i < frames_before; ++i) voiced += f[i].level_dbfs > -45;
  const auto expected = speech_duration(text, LineSettings{}.voice);
  EXPECT_GT(voiced * 20'000, static_cast<std::size_t>(expected.count()) / 2);
  EXPECT_GT(f[frames_before - 1].timestamp_us, static_cast<std::uint64_t>(expected.count()));
  ASSERT_TRUE(run_until([&] { return events_->frames.size() >= frames_before + 10; }));
  for (std::size_t i = frames_before; i < frames_before + 10; ++i) EXPECT_LT(f[i].level_dbfs, -55) << i;
  leg->hang_up();
}

TEST_F(SimulatedLineTest, PlaysAgentAudioAtLinePaceReportsProgressAndClears) {
  make_line(kConfig);
  auto leg = dial("+15551230000");
  ASSERT_TRUE(run_until([&] { return events_->media_format.has_value(); }));
  std::array<std::uint8_t, 160> silence{};
  silence.fill(0xFF);
  // One simulated second of agent audio, sent at once (a voice model runs ahead of real time).
  for (int i = 0; i < 50; ++i) leg->send_audio(AudioFrame{AudioFormat::mulaw_8k(), silence, i * 20'000ull});
  const auto sent = Clock::now();
  ASSERT_TRUE(run_until([&] { return !events_->progress.empty() && events_->progress.back() >= seconds(1); }));
  const auto played_wall = Clock::now() - sent;
  EXPECT_EQ(events_->progress.back(), seconds(1));
  EXPECT_GE(played_wall, milliseconds(45));  // 1 s at 20x is 50 ms of wall time, not instant
  EXPECT_GE(events_->progress.size(), 5u);   // reported as it plays, not only at the end
  EXPECT_TRUE(std::is_sorted(events_->progress.begin(), events_->progress.end()));

  // Two more seconds, cleared after a little has played: progress stops well short of 3 s.
  for (int i = 0; i < 100; ++i) leg->send_audio(AudioFrame{AudioFormat::mulaw_8k(), silence, 0});
  ASSERT_TRUE(run_until([&] { return events_->progress.back() >= milliseconds(1200); }));
  leg->clear_audio();
  const auto at_clear = events_->progress.back();
  ASSERT_TRUE(run_until([&] { return false; }, milliseconds(150)) == false);
  // A frame or two in flight, on a busy machine. (Not "below 1.5 s": a stall before the clear lets the line catch up
  // past 1.2 s legitimately; what matters is that it stops where the clear found it.)
  EXPECT_LE(events_->progress.back(), at_clear + milliseconds(100));
  EXPECT_LT(events_->progress.back(), seconds(3));

  // Wrong format is dropped, not played.
  std::array<std::uint8_t, 320> pcm{};
  const auto before = events_->progress.back();
  leg->send_audio(AudioFrame{AudioFormat::pcm16_at(8000), pcm, 0});
  run_until([&] { return false; }, milliseconds(50));
  EXPECT_EQ(events_->progress.back(), before);
  leg->hang_up();
}

TEST_F(SimulatedLineTest, AnswersTheAgentAfterItsAudioHasPlayed) {
  make_line(kConfig);
  auto leg = dial("+15551230000");
  ASSERT_TRUE(run_until([&] { return !events_->callee_texts.empty(); }));
  // The agent's request: 2 s of audio, then its text (as the host forwards the transcript).
  std::array<std::uint8_t, 160> tone{};
  for (std::size_t i = 0; i < tone.size(); ++i) tone[i] = mulaw::encode(static_cast<std::int16_t>(i % 16 < 8 ? 6000 : -6000));
  for (int i = 0; i < 100; ++i) leg->send_audio(AudioFrame{AudioFormat::mulaw_8k(), tone, 0});
  const std::size_t frames_at_send = events_->frames.size();
  leg->on_simulated_agent_text("Hi, I'd like to book a table for 4 people on Wednesday, November 25 at 7 PM.");
  ASSERT_TRUE(run_until([&] { return events_->callee_texts.size() >= 2; }));
  const auto& [reply, frames_before_reply] = events_->callee_texts[1];
  EXPECT_NE(reply.find("we have a table for 4"), std::string::npos) << reply;
  // The reply started no earlier than 2 s (the agent's audio) + 600 ms (answer delay) after the text arrived.
  std::size_t first_voiced = frames_at_send;
  while (first_voiced < frames_before_reply && events_->frames[first_voiced].level_dbfs < -45) ++first_voiced;
  EXPECT_GE(first_voiced - frames_at_send, 100u + 30u - 2u);
  EXPECT_LE(first_voiced - frames_at_send, 100u + 30u + 5u);
  leg->hang_up();
}

TEST_F(SimulatedLineTest, HangUpCompletesWithDurationAndStopsEvents) {
  make_line(kConfig);
  auto leg = dial("+15551230000");
  ASSERT_TRUE(run_until([&] { return events_->frames.size() >= 60; }));
  leg->hang_up();
  leg->hang_up();  // idempotent
  EXPECT_EQ(events_->statuses.back(), CallStatus::completed);
  ASSERT_TRUE(events_->last_update.duration_seconds);
  EXPECT_GE(*events_->last_update.duration_seconds, 1);
  EXPECT_EQ(events_->media_stopped, "agent hung up");
  const auto frames = events_->frames.size();
  const auto statuses = events_->statuses.size();
  run_until([&] { return false; }, milliseconds(50));
  EXPECT_EQ(events_->frames.size(), frames);
  EXPECT_EQ(events_->statuses.size(), statuses);
}

TEST_F(SimulatedLineTest, HangUpBeforeAnswerCancels) {
  make_line(kConfig);
  auto leg = dial("+15551230000");
  ASSERT_TRUE(run_until([&] { return !events_->statuses.empty() && events_->statuses.back() == CallStatus::ringing; }));
  leg->hang_up();
  EXPECT_EQ(events_->statuses.back(), CallStatus::canceled);
  EXPECT_FALSE(events_->media_stopped);
}

TEST_F(SimulatedLineTest, ManyConcurrentCallsKeepTheirOwnState) {
  make_line(kConfig);
  std::vector<std::shared_ptr<CallLeg>> legs;
  std::vector<std::shared_ptr<RecordingEvents>> all;
  for (int i = 0; i < 8; ++i) {
    legs.push_back(dial("+1555123000" + std::to_string(i)));
    all.push_back(events_);
  }
  ASSERT_TRUE(run_until([&] {
    return std::all_of(all.begin(), all.end(), [](auto& e) { return !e->callee_texts.empty(); });
  }));
  std::set<std::string> ids;
  for (auto& e : all) {
    ids.insert(e->provider_id);
    for (std::size_t i = 0; i < e->frames.size(); ++i) EXPECT_EQ(e->frames[i].timestamp_us, i * 20'000);
  }
  EXPECT_EQ(ids.size(), all.size());
  for (auto& leg : legs) leg->hang_up();
}

}  // namespace
}  // namespace concierge::sim
