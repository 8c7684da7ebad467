// The built plugin as the daemon loads it: on the C boundary (only concierge_plugin_entry of ours exported, no Asio,
// Beast or OpenSSL inside), loaded by the daemon's own loader (concierge_host_core), and holding conversations with
// the fake Realtime server through the host's WebSocket client: audio both ways, barge-in truncation, a refused key
// named in words, the server dropping the connection or never answering, and the config errors across the boundary.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "concierge_fakes/fake_openai_server.hpp"
#include "loaded_voice_model.hpp"
#include "module_exports.hpp"

namespace concierge::openai {
namespace {

using namespace std::chrono_literals;
namespace step = fakes::step;

TEST(RealtimePlugin, ExportsOnlyTheCEntryAndCarriesNoAsioBeastOrOpenSsl) {
  const std::string module = std::string(CONCIERGE_PLUGIN_DIR) + "/openai-realtime.so";
  EXPECT_EQ(concierge::testing::c_boundary_problems(CONCIERGE_NM, module), std::vector<std::string>{});
}

class LoadedRealtime : public concierge::testing::LoadedVoiceModelTest {
 protected:
  LoadedRealtime() : LoadedVoiceModelTest("openai-realtime") {}
};

TEST_F(LoadedRealtime, RefusesABadBlockNamingTheKeyAndTheFile) {
  try {
    load("model: gpt-realtime\n");
    FAIL() << "a block without api_key was accepted";
  } catch (const host::PluginLoadError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("/etc/concierge.yaml: plugins.voice_model.config.api_key", 0), 0u) << what;
    EXPECT_NE(what.find("OPENAI_API_KEY not configured"), std::string::npos) << what;
  }
  try {
    load("api_key: k\nvoice: nobody\n");
    FAIL() << "an unknown voice was accepted";
  } catch (const host::PluginLoadError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("/etc/concierge.yaml: plugins.voice_model.config.voice (line 2)", 0), 0u)
        << e.what();
  }
}

TEST_F(LoadedRealtime, ACaFileThatDoesNotLoadIsAConfigErrorAtStartUp) {
  expect_a_ca_file_that_does_not_load_to_be_a_config_error("wss://127.0.0.1:1/v1/realtime");
}

TEST_F(LoadedRealtime, AudioCrossesBothWaysThroughTheHostsClient) {
  fakes::FakeOpenAIOptions options;
  options.script.steps = {step::delay(100), step::agent_says("Hello, I'd like to book a table.", 1500)};
  fakes::FakeOpenAIServer fake(options);
  {
    const host::LoadedPlugin plugin = load(block_for(fake.url()));
    EXPECT_EQ(plugin.version, "1.1.0");
    open(plugin);
    send_callee_frames(10);  // before the session is configured: kept, then sent
    ASSERT_TRUE(wait_ready()) << events->all_errors();
    EXPECT_EQ(session->input_format(), AudioFormat::mulaw_8k());
    send_callee_frames(40);
    ASSERT_TRUE(host.run_until([&] {
      return fake.audio_bytes_received() == 50 * 160 && events->audio.size() == 8000u * 1500 / 1000;
    })) << fake.audio_bytes_received() << " " << events->audio.size() << " " << events->all_errors();
    EXPECT_EQ(events->audio, fake.agent_audio_sent());  // byte for byte through both hops
    EXPECT_TRUE(events->errors.empty()) << events->all_errors();
    const auto updates = fake.client_events("session.update");
    ASSERT_EQ(updates.size(), 1u);
    EXPECT_EQ(updates[0]["session"]["instructions"], "You are calling Demo Restaurant.");
    session->close();
    session.reset();
  }
  host.run_for(50ms);  // the unloaded plugin's client is gone: nothing of it runs
}

TEST_F(LoadedRealtime, ABargeInTruncatesAtWhatWasHeardAndDropsTheLateDeltas) {
  fakes::FakeOpenAIOptions options;
  fakes::BargeIn barge_in;
  barge_in.after_audio_ms = 2000;
  barge_in.wait_ms = 500;
  barge_in.late_deltas = 4;
  barge_in.callee_text = "Sorry, we are fully booked at seven.";
  options.script.steps = {step::agent_says_interrupted("We would like a table for four at seven, please.", 4000,
                                                       barge_in),
                          step::delay(300), step::agent_says("I see. What about eight?", 800)};
  fakes::FakeOpenAIServer fake(options);
  const host::LoadedPlugin plugin = load(block_for(fake.url()));
  open(plugin);
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return fake.script_finished() || !fake.script_failure().empty(); }, 15s));
  ASSERT_TRUE(host.run_until([&] { return events->transcripts.size() == 3; }));
  host.run_for(100ms);  // the truncate's answer
  EXPECT_EQ(fake.script_failure(), "");
  EXPECT_EQ(events->interruptions, 1);
  EXPECT_EQ(events->audio_at_interruption, 8000u * 2000 / 1000);
  EXPECT_EQ(events->audio.size(), 8000u * 2000 / 1000 + 8000u * 800 / 1000);  // the late deltas never reached the line
  const auto truncates = fake.client_events("conversation.item.truncate");
  ASSERT_EQ(truncates.size(), 1u);
  const int end_ms = truncates[0]["audio_end_ms"];
  // What had played when the callee spoke, by the clock: the ~500 ms the fake waited, longer on a loaded machine,
  // shorter when the first audio was read late. Never more than had played, nor the 2000 ms sent.
  const long heard_ms = events->heard_before_interruption_ms();
  EXPECT_LE(end_ms, heard_ms + 20);
  EXPECT_GE(end_ms, std::min(heard_ms, 2000L) - 100);
  EXPECT_LT(end_ms, 2000);
  EXPECT_EQ(fake.client_events("response.cancel").size(), 1u);
  EXPECT_TRUE(events->errors.empty()) << events->all_errors();
  session->close();
}

TEST_F(LoadedRealtime, ARefusedKeyIsNamedInWords) {
  fakes::FakeOpenAIServer fake(fakes::FakeOpenAIOptions{});
  const host::LoadedPlugin plugin = load(block_for(fake.url(), "sk-wrong"));
  open(plugin);
  ASSERT_TRUE(host.run_until([&] { return !events->errors.empty(); }));
  EXPECT_TRUE(events->errors[0].second);
  const std::string& message = events->errors[0].first;
  EXPECT_NE(message.find("OpenAI refused the API key (HTTP 401"), std::string::npos) << message;
  EXPECT_NE(message.find("Incorrect API key"), std::string::npos) << message;
  EXPECT_NE(message.find("check OPENAI_API_KEY"), std::string::npos) << message;
  EXPECT_EQ(message.find("sk-wrong"), std::string::npos) << "the key must not be echoed: " << message;
  EXPECT_EQ(fake.upgrades_refused(), 1);
}

TEST_F(LoadedRealtime, TheServerDroppingTheConnectionEndsTheCallInWords) {
  fakes::FakeOpenAIOptions options;
  options.script.steps = {step::agent_says("Hello.", 200), step::delay(50), step::drop_connection()};
  fakes::FakeOpenAIServer fake(options);
  const host::LoadedPlugin plugin = load(block_for(fake.url()));
  open(plugin);
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  events->on_fatal = [&] { session.reset(); };  // the host lets go of the session inside the callback
  ASSERT_TRUE(host.run_until([&] { return !events->errors.empty(); }));
  ASSERT_EQ(events->errors.size(), 1u);
  EXPECT_TRUE(events->errors[0].second);
  EXPECT_NE(events->errors[0].first.find("connection to OpenAI Realtime was lost"), std::string::npos)
      << events->all_errors();
  host.run_for(50ms);
  EXPECT_EQ(events->errors.size(), 1u);
}

TEST_F(LoadedRealtime, AServerThatNeverAnswersTimesOut) {
  expect_a_server_that_never_answers_to_time_out("/v1/realtime");
}

}  // namespace
}  // namespace concierge::openai
