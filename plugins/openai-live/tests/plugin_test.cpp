// The built plugin as the daemon loads it: on the C boundary (only concierge_plugin_entry of ours exported, no Asio,
// Beast or OpenSSL inside), loaded by the daemon's own loader (concierge_host_core), and holding conversations with
// the fake GPT-Live server through the host's WebSocket client and timers: audio both ways, a barge-in, line events'
// notes in the timeline, a refused key named in words, the socket dropping, a server that never answers, and the
// config errors across the boundary.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "concierge_fakes/fake_live_server.hpp"
#include "loaded_voice_model.hpp"
#include "module_exports.hpp"

namespace concierge::openai_live {
namespace {

using namespace std::chrono_literals;
namespace step = fakes::live::step;

TEST(LivePlugin, ExportsOnlyTheCEntryAndCarriesNoAsioBeastOrOpenSsl) {
  const std::string module = std::string(CONCIERGE_PLUGIN_DIR) + "/openai-live.so";
  EXPECT_EQ(concierge::testing::c_boundary_problems(CONCIERGE_NM, module), std::vector<std::string>{});
}

class LoadedLive : public concierge::testing::LoadedVoiceModelTest {
 protected:
  LoadedLive() : LoadedVoiceModelTest("openai-live") {}
};

TEST_F(LoadedLive, RefusesABadBlockNamingTheKeyAndTheFile) {
  try {
    load("model: gpt-live-1\n");
    FAIL() << "a block without api_key was accepted";
  } catch (const host::PluginLoadError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("/etc/concierge.yaml: plugins.voice_model.config.api_key", 0), 0u) << what;
    EXPECT_NE(what.find("OPENAI_API_KEY not configured"), std::string::npos) << what;
  }
  try {
    load("api_key: k\nno_such_key: 1\n");
    FAIL() << "an unknown key was accepted";
  } catch (const host::PluginLoadError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("/etc/concierge.yaml: plugins.voice_model.config.no_such_key (line 2)", 0),
              0u)
        << e.what();
  }
}

TEST_F(LoadedLive, ACaFileThatDoesNotLoadIsAConfigErrorAtStartUp) {
  expect_a_ca_file_that_does_not_load_to_be_a_config_error("wss://127.0.0.1:1/v1/live");
}

TEST_F(LoadedLive, AudioBothWaysAndABargeInThroughTheHostsClientAndTimers) {
  fakes::live::FakeLiveServer fake(
      [] {
        fakes::live::FakeLiveOptions o;
        o.script.steps = {
            step::callee_says("Hello?", 200),
            step::agent_says_interrupted("Hi, I would like to book a table for four people tomorrow evening", 4000,
                                         fakes::live::BargeIn{1000, 300, 3, "Sorry, one moment please"}),
            step::delay(1200),
            step::agent_says("Of course, take your time.", 1000),
            step::delay(300),
        };
        return o;
      }());
  {
    const host::LoadedPlugin plugin = load(block_for(fake.url()));
    EXPECT_EQ(plugin.version, "1.1.0");
    open(plugin);
    ASSERT_TRUE(wait_ready()) << events->all_errors();
    send_callee_frames(20);
    ASSERT_TRUE(host.run_until([&] { return fake.script_finished() || !fake.script_failure().empty(); }, 15s));
    host.run_for(100ms);
    EXPECT_EQ(fake.script_failure(), "");
    EXPECT_EQ(fake.client_event_types().front(), "session.start");
    EXPECT_GE(fake.audio_bytes_received(), 20u * 160u);
    EXPECT_EQ(events->interruptions, 1);
    EXPECT_EQ(events->audio.size(), fake.agent_audio_bytes_sent() - fake.late_audio_bytes_sent());
    EXPECT_EQ(events->audio.size() - events->audio_at_interruption, 8000u);  // 1 s of mu-law: the next reply
    // The callee's turns end on the plugin's turn timer, which is the host's timer now.
    EXPECT_GE(events->speech_stopped, 1);
    bool callee_heard = false;
    for (const auto& [speaker, text] : events->transcripts)
      if (speaker == Speaker::callee && text == "Sorry, one moment please") callee_heard = true;
    EXPECT_TRUE(callee_heard) << ::testing::PrintToString(events->transcripts);
    EXPECT_TRUE(events->errors.empty()) << events->all_errors();
    session->close();
    session.reset();
  }
  host.run_for(50ms);  // the unloaded plugin's client and timers are gone: nothing of it runs
}

TEST_F(LoadedLive, LineEventsNotesGoIntoTheTimeline) {
  fakes::live::FakeLiveOptions options;
  options.script.steps = {step::wait_for("session.thinking.append"), step::wait_for("session.commentary.append")};
  fakes::live::FakeLiveServer fake(options);
  const host::LoadedPlugin plugin = load(block_for(fake.url()));
  open(plugin);
  session->on_line_event({line_event::answered_by, "machine_start", 0, "(An answering machine answered.)", false});
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  session->on_line_event({line_event::beep, "", 1000, "(A beep has just sounded: leave the message now.)", true});
  ASSERT_TRUE(host.run_until([&] { return fake.script_finished() || !fake.script_failure().empty(); }));
  EXPECT_EQ(fake.script_failure(), "");
  const auto silent = fake.client_events("session.thinking.append");
  ASSERT_EQ(silent.size(), 1u);
  EXPECT_EQ(silent[0]["content"], "(An answering machine answered.)");
  const auto spoken = fake.client_events("session.commentary.append");
  ASSERT_EQ(spoken.size(), 1u);
  EXPECT_EQ(spoken[0]["content"], "(A beep has just sounded: leave the message now.)");
  EXPECT_TRUE(events->errors.empty()) << events->all_errors();
}

TEST_F(LoadedLive, ARefusedKeyIsNamedInWords) {
  fakes::live::FakeLiveOptions options;
  options.api_key = "sk-the-right-one";
  fakes::live::FakeLiveServer fake(options);
  const host::LoadedPlugin plugin = load(block_for(fake.url()));
  open(plugin);
  ASSERT_TRUE(host.run_until([&] { return events->has_fatal_error(); }, 10s));
  const std::string& message = events->errors[0].first;
  EXPECT_NE(message.find("OpenAI refused the API key (HTTP 401"), std::string::npos) << message;
  EXPECT_NE(message.find("check OPENAI_API_KEY"), std::string::npos) << message;
  EXPECT_EQ(message.find("sk-test-key"), std::string::npos) << "the key must not be echoed: " << message;
  EXPECT_EQ(events->ready, 0);
  EXPECT_EQ(fake.upgrades_refused(), 1);
}

TEST_F(LoadedLive, TheSocketDroppingMidCallIsFatal) {
  fakes::live::FakeLiveOptions options;
  options.script.steps = {step::callee_says("Hello?", 100), step::drop_connection()};
  fakes::live::FakeLiveServer fake(options);
  const host::LoadedPlugin plugin = load(block_for(fake.url()));
  open(plugin);
  events->on_fatal = [&] { session.reset(); };  // the host lets go of the session inside the callback
  ASSERT_TRUE(host.run_until([&] { return events->has_fatal_error(); }, 10s));
  EXPECT_NE(events->errors.back().first.find("during the call"), std::string::npos) << events->all_errors();
  EXPECT_EQ(events->ready, 1);
  host.run_for(50ms);
  EXPECT_EQ(events->errors.size(), 1u);
}

TEST_F(LoadedLive, AServerThatNeverAnswersTimesOut) {
  expect_a_server_that_never_answers_to_time_out("/v1/live/sessions");
}

}  // namespace
}  // namespace concierge::openai_live
