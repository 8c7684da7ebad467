#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "echo_voice.hpp"
#include "module_exports.hpp"

namespace {

using namespace concierge;

struct RecordingEvents : VoiceSessionEvents {
  int ready = 0;
  std::vector<std::vector<std::uint8_t>> audio;
  std::vector<AudioFormat> formats;
  std::vector<const std::uint8_t*> pointers;
  int errors = 0;
  int other = 0;
  void on_ready() override { ++ready; }
  void on_audio(const AudioFrame& frame) override {
    audio.emplace_back(frame.bytes.begin(), frame.bytes.end());
    formats.push_back(frame.format);
    pointers.push_back(frame.bytes.data());
  }
  void on_callee_speech_started() override { ++other; }
  void on_callee_speech_stopped() override { ++other; }
  void on_interruption() override { ++other; }
  void on_transcript(Speaker, std::string_view) override { ++other; }
  void on_tool_call(const ToolCall&) override { ++other; }
  void on_metrics(const VoiceMetrics&) override { ++other; }
  void on_error(std::string_view, bool) override { ++errors; }
};

echo::Post post_on(boost::asio::io_context& io) {
  return [&io](std::function<void()> fn) { boost::asio::post(io, std::move(fn)); };
}

AudioFormat format_from(const char* yaml) { return echo::parse_format(ConfigNode(YAML::Load(yaml), "echo-voice")); }

TEST(EchoVoice, FormatOption) {
  EXPECT_EQ(format_from("{}"), AudioFormat::pcm16_at(24000));
  EXPECT_EQ(format_from("format: mulaw/8000"), AudioFormat::mulaw_8k());
  EXPECT_EQ(format_from("format: pcm16/16000"), AudioFormat::pcm16_at(16000));
  EXPECT_THROW(format_from("format: opus"), ConfigError);
  EXPECT_THROW(format_from("formt: mulaw/8000"), ConfigError);
  try {
    format_from("\nformat: pcm16_24k");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "echo-voice.format (line 2): \"pcm16_24k\" is the old spelling: write pcm16/24000");
  }
}

TEST(EchoVoice, ReadyComesFromTheLoopThenEveryFrameComesBackAtOnce) {
  boost::asio::io_context io;
  echo::EchoVoiceModel model(post_on(io), AudioFormat::mulaw_8k());
  auto events = std::make_shared<RecordingEvents>();
  auto session = model.open_session(VoiceSessionConfig{}, events);
  EXPECT_EQ(events->ready, 0);  // not from inside open_session
  io.run();
  EXPECT_EQ(events->ready, 1);
  EXPECT_EQ(session->input_format(), AudioFormat::mulaw_8k());
  EXPECT_EQ(session->output_format(), AudioFormat::mulaw_8k());

  for (int k = 0; k < 5; ++k) {
    std::vector<std::uint8_t> bytes(160, static_cast<std::uint8_t>(k));
    session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), bytes, std::uint64_t(k) * 20000});
    ASSERT_EQ(events->audio.size(), std::size_t(k + 1));  // synchronously
    EXPECT_EQ(events->audio.back(), bytes);
    EXPECT_EQ(events->pointers.back(), bytes.data());  // the same frame, not a copy
  }
  EXPECT_EQ(events->other, 0);  // never speaks, transcribes, calls tools or ends the call
  EXPECT_EQ(events->errors, 0);
}

TEST(EchoVoice, RefusesTheWrongFormatAndIsSilentAfterClose) {
  boost::asio::io_context io;
  echo::EchoVoiceModel model(post_on(io), AudioFormat::pcm16_at(24000));
  auto events = std::make_shared<RecordingEvents>();
  auto session = model.open_session(VoiceSessionConfig{}, events);
  std::vector<std::uint8_t> mulaw(160);
  session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), mulaw, 0});
  session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), mulaw, 0});
  EXPECT_TRUE(events->audio.empty());
  EXPECT_EQ(events->errors, 1);  // said once
  std::vector<std::uint8_t> pcm(960);
  session->send_audio(AudioFrame{AudioFormat::pcm16_at(24000), pcm, 0});
  EXPECT_EQ(events->audio.size(), 1u);
  session->close();
  session->send_audio(AudioFrame{AudioFormat::pcm16_at(24000), pcm, 0});
  io.run();  // the queued on_ready finds the session closed
  EXPECT_EQ(events->audio.size(), 1u);
  EXPECT_EQ(events->ready, 0);
}

}  // namespace

namespace {

// The plugin's dynamic symbol table: one (mangled) name per defined symbol.
std::vector<std::string> exported_symbols(const std::string& module) {
  std::vector<std::string> names;
  const std::string command = std::string(CONCIERGE_NM) + " -D --defined-only '" + module + "'";
  FILE* out = popen(command.c_str(), "r");
  if (!out) return names;
  char line[4096];
  while (fgets(line, sizeof line, out)) {
    std::string text(line);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    // "<address> <type> <name>"
    const auto first = text.find(' '), second = text.find(' ', first + 1);
    if (second != std::string::npos) names.push_back(text.substr(second + 1));
  }
  pclose(out);
  return names;
}

using concierge::testing::is_standard_library;

}  // namespace

// Through the C boundary, the plugin exports concierge_plugin_entry and nothing else of ours: no SDK, Boost, yaml-cpp
// or nlohmann symbol (what is left is the standard library's weak typeinfo and template statics).
TEST(EchoVoiceModule, ExportsOnlyTheCEntryPointOfOurs) {
  const auto names = exported_symbols(ECHO_VOICE_MODULE);
  ASSERT_FALSE(names.empty()) << "nm read nothing from " << ECHO_VOICE_MODULE;
  EXPECT_EQ(std::count(names.begin(), names.end(), "concierge_plugin_entry"), 1);
  for (const auto& name : names)
    EXPECT_TRUE(name == "concierge_plugin_entry" || is_standard_library(name)) << "exported: " << name;
}
