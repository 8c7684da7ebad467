// The C boundary (concierge/abi.h) from the host's side: C fixture plugins (fixtures/c_voice_fixture.c, plain C99
// built with clang) loaded by the real loader, driven through the host's adapters, checked and refused by the
// versioning rule, and unloaded only once nothing of theirs is left.
#include <dlfcn.h>

#include <atomic>
#include <cstddef>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "c_plugin.hpp"
#include "concierge/http_client.hpp"
#include "concierge_fakes/hello_world_handler.hpp"
#include "concierge_fakes/ws_server.hpp"
#include "concierge/net/asio.hpp"
#include "plugin_loader.hpp"
#include "raw_socket.hpp"
#include "asio_event_loop.hpp"  // sdk/testing: run_io_until
#include "recording_logger.hpp"

using concierge::AudioFormat;
using concierge::AudioFrame;
using concierge::PluginKind;
using concierge::host::LoadedPlugin;
using concierge::host::PluginLoader;
using concierge::host::PluginLoadError;
namespace c_abi = concierge::host::c_abi;

namespace {

const std::filesystem::path kDir = CONCIERGE_TEST_PLUGIN_DIR;
std::string file(const std::string& name) { return (kDir / (name + ".so")).string(); }

class Host final : public concierge::HostServices {
 public:
  boost::asio::io_context& io() override { return io_; }
  // A real other thread, as the daemon's pool.
  void run_blocking(std::function<void()> work) override {
    workers_.emplace_back([this, work = std::move(work)] {
      ++worker_runs_;
      work();
    });
  }
  int worker_runs() const { return worker_runs_; }
  ~Host() override {
    for (auto& worker : workers_) worker.join();
  }
  std::string public_domain() const override { return "abc.example"; }
  std::shared_ptr<concierge::CallEvents> accept_inbound_call(const concierge::InboundCall&) override {
    return nullptr;
  }

 private:
  boost::asio::io_context io_;
  std::vector<std::thread> workers_;
  std::atomic<int> worker_runs_{0};
};

using concierge::testing::RecordingLogger;

struct Events final : concierge::VoiceSessionEvents {
  int ready = 0;
  std::vector<std::vector<std::uint8_t>> audio;
  std::vector<const std::uint8_t*> pointers;
  std::vector<AudioFormat> formats;
  void on_ready() override { ++ready; }
  void on_audio(const AudioFrame& frame) override {
    audio.emplace_back(frame.bytes.begin(), frame.bytes.end());
    pointers.push_back(frame.bytes.data());
    formats.push_back(frame.format);
  }
  void on_callee_speech_started() override {}
  void on_callee_speech_stopped() override {}
  void on_interruption() override {}
  void on_transcript(concierge::Speaker, std::string_view) override {}
  void on_tool_call(const concierge::ToolCall&) override {}
  void on_metrics(const concierge::VoiceMetrics&) override {}
  void on_error(std::string_view, bool) override {}
};

bool mapped(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  const std::string text((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  return text.find(path) != std::string::npos;
}

struct Fixture : ::testing::Test {
  Host host;
  std::shared_ptr<RecordingLogger> log = std::make_shared<RecordingLogger>();
  PluginLoader loader{kDir};
  concierge::PluginContext context() { return concierge::PluginContext{host, log, kDir}; }
  LoadedPlugin load(const std::string& name, const std::string& yaml = "{}") {
    return loader.load(name, PluginKind::voice_model, context(), YAML::Load(yaml), "plugins.voice_model.config",
                       "/etc/concierge.yaml");
  }
  std::string error_of(const std::string& name, const std::string& yaml = "{}") {
    try {
      load(name, yaml);
    } catch (const PluginLoadError& e) {
      return e.what();
    }
    return "no error";
  }
  template <class F>
  bool run_until(F done) {  // event-driven, never a fixed sleep
    return concierge::testing::run_io_until(host.io(), done, std::chrono::seconds(5));
  }
};

}  // namespace

TEST_F(Fixture, ACPluginLoadsThroughTheLoaderAndRunsASession) {
  const LoadedPlugin plugin = load("fixture-c-voice");
  EXPECT_TRUE(plugin.c_abi);
  EXPECT_EQ(plugin.c_abi_major, static_cast<std::uint32_t>(CONCIERGE_ABI_MAJOR));
  EXPECT_EQ(plugin.c_abi_minor, static_cast<std::uint32_t>(CONCIERGE_ABI_MINOR));
  EXPECT_EQ(plugin.name, "fixture-c-voice");
  EXPECT_EQ(plugin.version, "0.3.0");
  EXPECT_EQ(plugin.description, "C boundary test fixture");
  EXPECT_EQ(plugin.kind, PluginKind::voice_model);
  ASSERT_TRUE(plugin.instance.voice_model);
  EXPECT_EQ(log->count("created"), 1);  // through concierge_host_api.log

  auto events = std::make_shared<Events>();
  auto session = plugin.instance.voice_model->open_session(concierge::VoiceSessionConfig{}, events);
  EXPECT_EQ(events->ready, 0);  // never from inside open_session
  EXPECT_EQ(session->input_format(), AudioFormat::mulaw_8k());
  EXPECT_EQ(session->output_format(), AudioFormat::mulaw_8k());
  ASSERT_TRUE(run_until([&] { return events->ready == 1; }));
  std::vector<std::uint8_t> bytes(160, 0x55);
  session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), bytes, 40000});
  ASSERT_EQ(events->audio.size(), 1u);  // synchronously, through concierge_host_api.voice_audio
  EXPECT_EQ(events->audio[0], bytes);
  EXPECT_EQ(events->pointers[0], bytes.data());  // the very frame: borrowed across the boundary, never copied
  EXPECT_EQ(events->formats[0], AudioFormat::mulaw_8k());
  EXPECT_TRUE(run_until([&] { return log->count("tick") >= 2; }));  // its 1 ms timer, re-armed
  session->close();
  session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), bytes, 60000});
  EXPECT_EQ(events->audio.size(), 1u);  // nothing after close
  EXPECT_TRUE(run_until([&] { return log->count("late post ran") == 1; }));  // a post while the instance lives runs
}

TEST_F(Fixture, TheConfigArrivesAsJsonAndAConfigErrorNamesFileKeyPathAndLine) {
  const LoadedPlugin plugin = load("fixture-c-voice", "format: pcm16/24000\n");
  auto session = plugin.instance.voice_model->open_session({}, std::make_shared<Events>());
  EXPECT_EQ(session->input_format(), AudioFormat::pcm16_at(24000));
  // The plugin names only the key (line 0); the host finds the line from the positions it gave.
  EXPECT_EQ(error_of("fixture-c-voice", "format: mulaw/8000\n\nbogus: 1\n"),
            "/etc/concierge.yaml: plugins.voice_model.config.bogus (line 3): unknown key (known keys here: format)");
  EXPECT_EQ(error_of("fixture-c-voice", "fail: true"), file("fixture-c-voice") + ": create() failed: told to fail");
}

TEST(CPluginConfig, YamlBecomesJsonWithEveryKeysPosition) {
  std::vector<c_abi::ConfigPosition> positions;
  const std::string json = c_abi::config_to_json(
      YAML::Load("name: Demo\nport: 8080\nratio: 0.5\non: true\nquoted: \"8080\"\nnothing:\nlist:\n  - a\n  - {k: 2}\n"),
      "plugins.agent.config", positions);
  EXPECT_EQ(json,
            R"({"list":["a",{"k":2}],"name":"Demo","nothing":null,"on":true,"port":8080,"quoted":"8080","ratio":0.5})");
  auto line = [&](const std::string& key) -> int {
    for (const auto& p : positions)
      if (p.key_path == key) return static_cast<int>(p.line);
    return -1;
  };
  EXPECT_EQ(line("plugins.agent.config.name"), 1);
  EXPECT_EQ(line("plugins.agent.config.quoted"), 5);
  EXPECT_EQ(line("plugins.agent.config.nothing"), 6);
  EXPECT_EQ(line("plugins.agent.config.list[1].k"), 9);
  positions.clear();
  EXPECT_EQ(c_abi::config_to_json(YAML::Node(), "x", positions), "{}");  // no block: an empty object
}

TEST_F(Fixture, TheVersioningRuleIsEnforced) {
  const std::string ours = std::to_string(CONCIERGE_ABI_MAJOR) + "." + std::to_string(CONCIERGE_ABI_MINOR);
  EXPECT_EQ(error_of("fixture-c-abi2"), file("fixture-c-abi2") + ": built for C ABI 2." +
                                            std::to_string(CONCIERGE_ABI_MINOR) + ", this host has C ABI " + ours +
                                            "; rebuild the plugin");
  EXPECT_EQ(error_of("fixture-c-newer-minor"),
            file("fixture-c-newer-minor") + ": built for C ABI 1.99, this host has C ABI " + ours +
                "; upgrade the host or rebuild the plugin against C ABI " + ours);
  EXPECT_EQ(error_of("fixture-c-short"), file("fixture-c-short") + ": its descriptor is 16 bytes, C ABI " + ours +
                                             " defines " + std::to_string(sizeof(concierge_plugin)) +
                                             "; rebuild the plugin");
  EXPECT_EQ(error_of("fixture-c-refuses"),
            file("fixture-c-refuses") + ": refused by the plugin (concierge_plugin_entry returned NULL)");
  // Listed with its boundary's version.
  const auto listing = loader.list();
  const std::string text = concierge::host::format_plugin_listing(listing);
  EXPECT_NE(text.find("C ABI " + ours + "  " + file("fixture-c-voice")), std::string::npos) << text;
}

// The lifetime rule: the library stays mapped while anything of it lives, its pending work (an armed heartbeat timer
// it never cancels, a post queued from session_close) is dropped when the instance goes, then it is unloaded and
// nothing of it runs again.
TEST_F(Fixture, TheLibraryIsUnloadedOnlyOnceNothingOfItLivesAndItsPendingWorkNeverRuns) {
  std::shared_ptr<concierge::VoiceSession> session;
  std::shared_ptr<const void> library;
  {
    LoadedPlugin plugin = load("fixture-c-voice", "heartbeat: true");
    library = plugin.library;
    auto events = std::make_shared<Events>();
    session = plugin.instance.voice_model->open_session({}, events);
    ASSERT_TRUE(run_until([&] { return log->count("heartbeat") >= 2 && log->count("tick") >= 2; }));
  }
  EXPECT_GT(c_abi::pending_callbacks(), 0u);
  library.reset();  // the daemon's own reference; the session still holds the instance, which holds the library
  EXPECT_TRUE(mapped(file("fixture-c-voice")));
  EXPECT_TRUE(run_until([&] { return log->count("tick") >= 4; }));  // still running, still mapped
  session.reset();  // session_destroy posts "late"; the instance goes: heartbeat and "late" must be dropped
  const int heartbeats = log->count("heartbeat"), ticks = log->count("tick");
  host.io().restart();
  host.io().poll();  // the cancelled waits and the dropped post release what they held
  EXPECT_EQ(c_abi::pending_callbacks(), 0u);
  EXPECT_FALSE(mapped(file("fixture-c-voice")));
  host.io().restart();
  host.io().run_for(std::chrono::milliseconds(20));  // would crash if anything of the plugin were still queued
  EXPECT_EQ(log->count("heartbeat"), heartbeats);
  EXPECT_EQ(log->count("tick"), ticks);
  EXPECT_EQ(log->count("late post ran"), 0);
}

// run_blocking's work runs on a worker thread, and post, the one host function any thread may call, lands on the loop.
TEST_F(Fixture, BlockingWorkRunsOnAWorkerAndPostsFromThereLandOnTheLoop) {
  const LoadedPlugin plugin = load("fixture-c-voice", "blocking: true");
  EXPECT_TRUE(run_until([&] { return log->count("posted from a worker") == 1 && log->count("blocking done") == 1; }));
  EXPECT_EQ(host.worker_runs(), 1);
}

// A plugin compiled against the frozen copy of the first C ABI (tests/abi/1.0/concierge/abi.h) loads in this host
// and runs a session: the compatibility promise of abi.h's VERSIONING, checked on every build.
TEST_F(Fixture, APluginBuiltAgainstTheFrozen10HeaderLoadsAndRuns) {
  const LoadedPlugin plugin = load("fixture-c-snapshot-1-0");
  EXPECT_TRUE(plugin.c_abi);
  EXPECT_EQ(plugin.c_abi_major, 1u);
  EXPECT_EQ(plugin.c_abi_minor, 0u);
  auto events = std::make_shared<Events>();
  auto session = plugin.instance.voice_model->open_session({}, events);
  ASSERT_TRUE(run_until([&] { return events->ready == 1; }));
  std::vector<std::uint8_t> bytes(160, 0x11);
  session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), bytes, 0});
  ASSERT_EQ(events->audio.size(), 1u);
  EXPECT_EQ(events->audio[0], bytes);
}

// C ABI 1.1: a line event reaches a voice session through concierge_voice_model_api.session_line_event, with the
// note and respond_now the host gives it; the same fixture built against the frozen 1.0 header has no such entry and
// is simply not told (the host reads only what its table's size covers).
TEST_F(Fixture, ALineEventReachesAVoiceSessionBuiltFor11AndNotOneBuiltFor10) {
  concierge::LineEvent beep;
  beep.kind = concierge::line_event::beep;
  beep.beep_hz = 1000;
  beep.note = "(leave the message now)";
  beep.respond_now = true;
  concierge::LineEvent dtmf;
  dtmf.kind = concierge::line_event::dtmf;
  dtmf.detail = "7";
  {
    const LoadedPlugin plugin = load("fixture-c-voice");
    auto session = plugin.instance.voice_model->open_session({}, std::make_shared<Events>());
    session->on_line_event(beep);
    session->on_line_event(dtmf);
    EXPECT_EQ(log->count("line event beep [] note (leave the message now) now 1 kHz"), 1);
    EXPECT_EQ(log->count("line event dtmf [7] note "), 1);
    session->close();
    session->on_line_event(dtmf);  // nothing after close
    EXPECT_EQ(log->count("line event dtmf [7] note "), 1);
  }
  const LoadedPlugin old = load("fixture-c-snapshot-1-0");
  auto session = old.instance.voice_model->open_session({}, std::make_shared<Events>());
  session->on_line_event(beep);
  EXPECT_EQ(log->count("line event beep [] note (leave the message now) now 1 kHz"), 1);  // still only the 1.1 one's
}

// A plugin built against the frozen C ABI 1.1 header (tests/abi/1.1) loads, runs a session and is told line events.
TEST_F(Fixture, APluginBuiltAgainstTheFrozen11HeaderLoadsRunsAndHearsLineEvents) {
  const LoadedPlugin plugin = load("fixture-c-snapshot-1-1");
  EXPECT_TRUE(plugin.c_abi);
  EXPECT_EQ(plugin.c_abi_major, 1u);
  EXPECT_EQ(plugin.c_abi_minor, 1u);
  auto events = std::make_shared<Events>();
  auto session = plugin.instance.voice_model->open_session({}, events);
  ASSERT_TRUE(run_until([&] { return events->ready == 1; }));
  std::vector<std::uint8_t> bytes(160, 0x22);
  session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), bytes, 0});
  ASSERT_EQ(events->audio.size(), 1u);
  EXPECT_EQ(events->audio[0], bytes);
  concierge::LineEvent verdict;
  verdict.kind = concierge::line_event::answered_by;
  verdict.detail = "machine_end_beep";
  session->on_line_event(verdict);
  EXPECT_EQ(log->count("line event answered_by [machine_end_beep] note "), 1);
}

// The sizes of each minor's tables are enforced: a plugin declaring 1.1 must give the 1.1 table (here one built
// against the 1.0 header that claims 1.1), and the next minor is refused by name.
TEST_F(Fixture, ATableSmallerThanItsMinorDefinesAndTheNextMinorAreRefused) {
  const std::string ours = std::to_string(CONCIERGE_ABI_MAJOR) + "." + std::to_string(CONCIERGE_ABI_MINOR);
  EXPECT_EQ(error_of("fixture-c-short-table"),
            file("fixture-c-short-table") + ": its voice model table is " +
                std::to_string(offsetof(concierge_voice_model_api, session_line_event)) + " bytes, C ABI 1.1 defines " +
                std::to_string(offsetof(concierge_voice_model_api, session_line_event) + sizeof(void*)) +
                "; rebuild the plugin");
  EXPECT_EQ(error_of("fixture-c-next-minor"),
            file("fixture-c-next-minor") + ": built for C ABI 1." + std::to_string(CONCIERGE_ABI_MINOR + 1) +
                ", this host has C ABI " + ours + "; upgrade the host or rebuild the plugin against C ABI " + ours);
}

#include "concierge/outcome_kind.hpp"

// abi.h's outcome words are the SDK's, spelled the same, in the same order as its enum.
TEST(CAbiOutcomes, SpellTheSdksVocabulary) {
  namespace ok = concierge::outcome_kind;
  const char* const c_words[] = {CONCIERGE_OUTCOME_SUCCEEDED,      CONCIERGE_OUTCOME_UNAVAILABLE,
                                 CONCIERGE_OUTCOME_DECLINED,       CONCIERGE_OUTCOME_NO_ANSWER,
                                 CONCIERGE_OUTCOME_VOICEMAIL,      CONCIERGE_OUTCOME_VOICEMAIL_LEFT,
                                 CONCIERGE_OUTCOME_MENU_DEAD_END,  CONCIERGE_OUTCOME_NOT_COMPLETED};
  static_assert(std::size(c_words) == CONCIERGE_OUTCOME_KIND_COUNT);
  ASSERT_EQ(ok::kAll.size(), std::size(c_words));
  for (std::size_t i = 0; i < ok::kAll.size(); ++i) EXPECT_EQ(ok::kAll[i], c_words[i]) << i;
  EXPECT_EQ(ok::kOutcomeKey, CONCIERGE_OUTCOME_KEY);
  EXPECT_EQ(c_words[CONCIERGE_OUTCOME_KIND_VOICEMAIL_LEFT], ok::voicemail_left);
  EXPECT_EQ(c_words[CONCIERGE_OUTCOME_KIND_MENU_DEAD_END], ok::menu_dead_end);
}

// The daemon's services through the host table: the public domain, and counters and gauges on /metrics.
TEST_F(Fixture, PublicDomainAndMetricsReachTheHost) {
  const LoadedPlugin plugin = load("fixture-c-voice", "services: true");
  EXPECT_EQ(log->count("public domain abc.example"), 1);
  std::string metrics;
  c_abi::render_plugin_metrics(metrics);
  EXPECT_NE(metrics.find("# TYPE concierge_plugin_fixture_c_voice_frames_total counter\n"
                         "concierge_plugin_fixture_c_voice_frames_total 5\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("# TYPE concierge_plugin_fixture_c_voice_level gauge\nconcierge_plugin_fixture_c_voice_level 0.5\n"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("Bad"), std::string::npos) << metrics;
}

// ---- telephony over C (fixtures/c_telephony_fixture.c) ----

namespace {

struct RecordingCallEvents final : concierge::CallEvents {
  std::vector<std::string> provider_ids;
  std::vector<concierge::CallStatusUpdate> statuses, late;
  std::vector<AudioFormat> media_started;
  std::vector<std::vector<std::uint8_t>> audio;
  std::vector<const std::uint8_t*> pointers;
  std::vector<std::int64_t> played_us;
  std::string dtmf, callee_text, media_stopped;
  void on_provider_call_id(std::string_view id) override { provider_ids.emplace_back(id); }
  void on_status(const concierge::CallStatusUpdate& update) override { statuses.push_back(update); }
  void on_media_started(AudioFormat format) override { media_started.push_back(format); }
  void on_audio(const AudioFrame& frame) override {
    audio.emplace_back(frame.bytes.begin(), frame.bytes.end());
    pointers.push_back(frame.bytes.data());
  }
  void on_playback_progress(std::chrono::microseconds played) override { played_us.push_back(played.count()); }
  void on_dtmf(char digit) override { dtmf += digit; }
  void on_media_stopped(std::string_view reason) override { media_stopped = reason; }
  void on_simulated_callee_text(std::string_view text) override { callee_text = text; }
  void on_late_status(const concierge::CallStatusUpdate& update) override { late.push_back(update); }
};

struct RecordingPeer final : concierge::WebSocketPeer {
  explicit RecordingPeer(concierge::HttpRequest upgrade) : upgrade(std::move(upgrade)) {}
  void send_text(std::string_view message) override { sent.emplace_back(message); }
  void close(std::string_view reason) override {
    open = false;
    closed_with = reason;
  }
  bool is_open() const override { return open; }
  const concierge::HttpRequest& upgrade_request() const override { return upgrade; }
  concierge::HttpRequest upgrade;
  std::vector<std::string> sent;
  bool open = true;
  std::string closed_with;
};

// A daemon's side of inbound calls: accepts when told to, keeping the leg and giving events.
class InboundHost final : public concierge::HostServices {
 public:
  boost::asio::io_context& io() override { return io_; }
  void run_blocking(std::function<void()> work) override { work(); }
  std::string public_domain() const override { return ""; }
  std::shared_ptr<concierge::CallEvents> accept_inbound_call(const concierge::InboundCall& call) override {
    if (!accept) return nullptr;
    inbound.push_back(call);
    return inbound_events;
  }
  bool accept = false;
  std::vector<concierge::InboundCall> inbound;
  std::shared_ptr<RecordingCallEvents> inbound_events = std::make_shared<RecordingCallEvents>();

 private:
  boost::asio::io_context io_;
};

// Each test runs against the provider in plain C (fixture-c-telephony) and the same provider in C++ on the SDK's
// C++ layer (fixture-cxx-telephony, fixtures/cxx_telephony_fixture.cpp): the layer must behave as the C plugin does.
struct TelephonyFixture : ::testing::TestWithParam<std::string> {
  InboundHost host;
  std::shared_ptr<RecordingLogger> log = std::make_shared<RecordingLogger>();
  PluginLoader loader{kDir};
  LoadedPlugin load() {
    return loader.load(GetParam(), PluginKind::telephony, concierge::PluginContext{host, log, kDir},
                       YAML::Load("{}"), "plugins.telephony.config", "/etc/concierge.yaml");
  }
  template <class F>
  bool run_until(F done) {  // event-driven, never a fixed sleep
    return concierge::testing::run_io_until(host.io(), done, std::chrono::seconds(5));
  }
};

}  // namespace

// A call placed through a C telephony plugin: its statuses, media and the callee's audio come back through the
// host's concierge_call_events, the agent's audio and the barge-in and hang-up go to its leg; frames are borrowed
// both ways, never copied.
TEST_P(TelephonyFixture, ACallPlacedThroughCCarriesStatusAudioAndHangsUp) {
  const LoadedPlugin plugin = load();
  EXPECT_TRUE(plugin.c_abi);
  EXPECT_EQ(plugin.kind, PluginKind::telephony);
  ASSERT_TRUE(plugin.instance.telephony);
  auto events = std::make_shared<RecordingCallEvents>();
  auto leg = plugin.instance.telephony->place_call({"call_1", "+1555000001", "Fixture", std::chrono::seconds(30)},
                                                    events);
  ASSERT_TRUE(leg);
  EXPECT_TRUE(events->statuses.empty());  // answered from a timer, never inside place_call
  ASSERT_TRUE(run_until([&] { return !events->media_started.empty(); }));
  EXPECT_EQ(events->provider_ids, std::vector<std::string>{"FX1"});
  ASSERT_EQ(events->statuses.size(), 1u);
  EXPECT_EQ(events->statuses[0].status, concierge::CallStatus::in_progress);
  EXPECT_EQ(events->statuses[0].answered_by, "human");
  EXPECT_FALSE(events->statuses[0].duration_seconds);
  EXPECT_EQ(events->media_started[0], AudioFormat::mulaw_8k());
  std::vector<std::uint8_t> bytes(160, 0x33);
  leg->send_audio(AudioFrame{AudioFormat::mulaw_8k(), bytes, 40000});
  ASSERT_EQ(events->audio.size(), 1u);
  EXPECT_EQ(events->audio[0], bytes);
  EXPECT_EQ(events->pointers[0], bytes.data());  // the very bytes, both ways across the boundary
  EXPECT_EQ(events->played_us, std::vector<std::int64_t>{60000});
  leg->clear_audio();
  EXPECT_EQ(events->dtmf, "5");
  leg->on_simulated_agent_text("a table for two");
  EXPECT_EQ(events->callee_text, "a table for two");
  leg->hang_up();
  EXPECT_EQ(events->media_stopped, "hung up");
  ASSERT_EQ(events->statuses.size(), 2u);
  EXPECT_EQ(events->statuses[1].status, concierge::CallStatus::completed);
  EXPECT_EQ(events->statuses[1].duration_seconds, 3);
  // A number the plugin cannot dial: no leg, and the call fails with the plugin's words.
  auto refused = std::make_shared<RecordingCallEvents>();
  EXPECT_FALSE(plugin.instance.telephony->place_call({"call_2", "+1555000009", "Nobody", {}}, refused));
  ASSERT_EQ(refused->statuses.size(), 1u);
  EXPECT_EQ(refused->statuses[0].status, concierge::CallStatus::failed);
  EXPECT_EQ(refused->statuses[0].reason, "the telephony plugin could not place the call: the fixture dials only "
                                         "+1555000001 and +1555000002");
  EXPECT_EQ(plugin.instance.telephony->check_destination("+19005550100"), "premium-rate numbers are not dialled");
  EXPECT_EQ(plugin.instance.telephony->check_destination("+15550000001"), "");
}

// C ABI 1.1's late status: the plugin retains the call's events past its leg and, after the host destroyed the leg,
// corrects the finished call (a late provider id, then the status it really had). Then the library unloads.
TEST_P(TelephonyFixture, ALateStatusFromACPluginReachesTheHostAfterItsLegIsGone) {
  std::shared_ptr<concierge::TelephonyProvider> provider;
  auto events = std::make_shared<RecordingCallEvents>();
  {
    LoadedPlugin plugin = load();
    provider = plugin.instance.telephony;
  }
  auto leg = provider->place_call({"call_3", "+1555000002", "Fixture", {}}, events);
  ASSERT_TRUE(leg);
  ASSERT_EQ(events->statuses.size(), 1u);
  EXPECT_EQ(events->statuses[0].status, concierge::CallStatus::failed);
  EXPECT_EQ(events->statuses[0].reason, "fixture says no");
  leg.reset();  // the host is done with the call; the plugin still holds its events
  ASSERT_TRUE(run_until([&] { return !events->late.empty(); }));
  EXPECT_EQ(events->provider_ids, std::vector<std::string>{"FX2-LATE"});
  ASSERT_EQ(events->late.size(), 1u);
  EXPECT_EQ(events->late[0].status, concierge::CallStatus::completed);
  EXPECT_EQ(events->late[0].reason, "it went through after all");
  EXPECT_EQ(events->late[0].duration_seconds, 3);
  provider.reset();
  host.io().restart();
  host.io().poll();
  EXPECT_EQ(c_abi::pending_callbacks(), 0u);
  EXPECT_FALSE(mapped(file(GetParam())));
}

// A C provider's HTTP routes and media streams: requests and responses through abi.h's structs and writer, an
// upgrade refused or accepted, messages both ways on the host's peer, and an inbound call handed to the host.
TEST_P(TelephonyFixture, RoutesMediaStreamsAndInboundCallsCrossTheCBoundary) {
  const LoadedPlugin plugin = load();
  auto& provider = *plugin.instance.telephony;
  EXPECT_EQ(provider.http_routes(), std::vector<std::string>{"/fixture/hook"});
  concierge::HttpRequest request;
  request.method = "POST";
  request.target = "/fixture/hook?x=1";
  request.path = "/fixture/hook";
  request.query = {{"x", "1"}};
  request.headers = {{"x-fixture", "hdr"}};
  request.body = "CallSid=CA1";
  const concierge::HttpResponse response = provider.handle_http(request);
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.content_type, "text/plain");
  EXPECT_EQ(response.body, "POST /fixture/hook q=1 h=hdr CallSid=CA1");
  EXPECT_EQ(response.headers, (std::vector<std::pair<std::string, std::string>>{{"x-fixture-reply", "yes"}}));

  concierge::HttpRequest upgrade;
  upgrade.method = "GET";
  upgrade.path = "/media-stream";
  upgrade.query = {{"token", "bad"}};
  const auto refusal = provider.check_media_stream_upgrade(upgrade);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 403);
  EXPECT_EQ(refusal->body, R"({"error":"bad token"})");
  upgrade.query = {{"token", "ok"}};
  EXPECT_FALSE(provider.check_media_stream_upgrade(upgrade));
  auto peer = std::make_shared<RecordingPeer>(upgrade);
  auto handler = provider.open_media_stream(peer);
  ASSERT_TRUE(handler);
  handler->on_text("hello");
  EXPECT_EQ(peer->sent, std::vector<std::string>{"echo:hello"});
  handler->on_text("inbound");  // refused: the plugin keeps its leg
  EXPECT_EQ(log->count("inbound refused"), 1);
  host.accept = true;
  handler->on_text("inbound");
  ASSERT_EQ(host.inbound.size(), 1u);
  EXPECT_EQ(host.inbound[0].from, "+1555999");
  EXPECT_EQ(host.inbound[0].provider_call_id, "IN1");
  ASSERT_TRUE(host.inbound[0].leg);
  host.inbound.clear();  // the host is done with the inbound call: its leg goes back through leg_destroy
  EXPECT_EQ(log->count("inbound leg destroyed"), 1);
  handler->on_text("bye");
  EXPECT_FALSE(peer->open);
  EXPECT_EQ(peer->closed_with, "bye");
  handler->on_closed("normal");
  EXPECT_EQ(log->count("stream closed: normal"), 1);
  handler.reset();
}

// Timers are recycled slots, in the host's C table and in the C++ layer: a fired timer's id, cancelled after its slot
// was re-armed, must cancel nothing, and a timer cancelled at once never runs. The C fixture checks the host's table;
// the C++ one checks cxx::Host, and the host's table again under it ("raw ...").
TEST_P(TelephonyFixture, AStaleTimerIdCancelsNothingAndACancelledTimerNeverRuns) {
  const LoadedPlugin plugin = load();
  const bool cxx = GetParam() == "fixture-cxx-telephony";
  concierge::HttpRequest request;
  request.method = "GET";
  request.target = "/fixture/hook?x=timers";
  request.path = "/fixture/hook";
  request.query = {{"x", "timers"}};
  EXPECT_EQ(plugin.instance.telephony->handle_http(request).body, "timers armed");
  ASSERT_TRUE(run_until([&] { return log->count("timers checked") == 1 && log->count("raw timers checked") == cxx; }));
  EXPECT_EQ(log->count("timer B ran"), 1);
  EXPECT_EQ(log->count("timer C ran"), 0);  // due before "checked": it would have run by now
  EXPECT_EQ(log->count("raw timer B ran"), cxx ? 1 : 0);
  EXPECT_EQ(log->count("raw timer C ran"), 0);
}

// A C++ plugin's work still pending when its instance goes (a posted function, a timer due in an hour) is destroyed
// unrun with the layer's Host, while the Host is whole: a destructor in its captures that cancels a timer, posts or
// arms one (as a plugin object's does) is refused cleanly, and nothing of it runs.
TEST(CxxLayerHost, WorkPendingAtExitIsDroppedUnrunWhileTheHostIsWhole) {
  InboundHost host;
  auto log = std::make_shared<RecordingLogger>();
  PluginLoader loader{kDir};
  {
    LoadedPlugin plugin = loader.load("fixture-cxx-telephony", PluginKind::telephony,
                                      concierge::PluginContext{host, log, kDir}, YAML::Load("{}"),
                                      "plugins.telephony.config", "/etc/concierge.yaml");
    concierge::HttpRequest request;
    request.method = "GET";
    request.target = "/fixture/hook?x=pending-at-exit";
    request.path = "/fixture/hook";
    request.query = {{"x", "pending-at-exit"}};
    EXPECT_EQ(plugin.instance.telephony->handle_http(request).body, "left pending");
  }  // the instance goes with its post and timer pending: the loop never ran
  EXPECT_EQ(log->count("post dropped: post refused, timer refused"), 1) << log->all();
  EXPECT_EQ(log->count("timer dropped: post refused, timer refused"), 1) << log->all();
  host.io().restart();
  host.io().poll();  // what the host had queued for the instance finds it closed
  EXPECT_EQ(concierge::host::c_abi::pending_callbacks(), 0u);
}

INSTANTIATE_TEST_SUITE_P(CAndCxx, TelephonyFixture, ::testing::Values("fixture-c-telephony", "fixture-cxx-telephony"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param == "fixture-c-telephony" ? std::string("C") : std::string("CxxLayer");
                         });

// ---- the host's HTTP and WebSocket clients through the C table (http_start/http_cancel, ws_client_*) ----

namespace {

// The daemon's services with its real HTTP client (libcurl on the loop), as main.cpp gives them; `limits` are the
// daemon's own unless a test asks for a small cap.
class ClientHost final : public concierge::HostServices {
 public:
  explicit ClientHost(concierge::HttpClientLimits limits = {}) : http_(concierge::make_http_client(io_, limits)) {}
  boost::asio::io_context& io() override { return io_; }
  void run_blocking(std::function<void()> work) override { work(); }
  std::string public_domain() const override { return ""; }
  std::shared_ptr<concierge::CallEvents> accept_inbound_call(const concierge::InboundCall&) override {
    return nullptr;
  }
  concierge::HttpClient& http() override { return *http_; }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<concierge::HttpClient> http_;
};

// The WebSocket peer on loopback (tests/fakes/ws-server) answers "hello" with "world"; the judge notes each upgrade.
struct ClientFixture : ::testing::Test {
  ClientHost host;
  std::shared_ptr<RecordingLogger> log = std::make_shared<RecordingLogger>();
  PluginLoader loader{kDir};
  LoadedPlugin load(const std::string& yaml) {
    return loader.load("fixture-c-voice", PluginKind::voice_model, concierge::PluginContext{host, log, kDir},
                       YAML::Load(yaml), "plugins.voice_model.config", "/etc/concierge.yaml");
  }
  template <class F>
  bool run_until(F done) {  // event-driven, never a fixed sleep
    return concierge::testing::run_io_until(host.io(), done, std::chrono::seconds(10));
  }
};

}  // namespace

// A plugin's request goes out through the host's HTTP client to a loopback server and its response comes back on the
// loop; a cancelled request's completion never runs; a refused connection completes with the client's words. Run for
// the C fixture (http_start/http_cancel by hand) and the C++ layer's fixture (cxx::Host::http(), a
// concierge::HttpClient over the same entries).
void expect_http_through(ClientFixture& t, const std::string& plugin, PluginKind kind, const std::string& header) {
  const auto load = [&](const std::string& yaml) {
    return t.loader.load(plugin, kind, concierge::PluginContext{t.host, t.log, kDir}, YAML::Load(yaml),
                         "plugins.x.config", "/etc/concierge.yaml");
  };
  concierge::testing::CannedHttpServer server(200, R"({"pong":true})");
  {
    const LoadedPlugin loaded = load("http_url: \"" + server.base_url() + "/hook\"");
    ASSERT_TRUE(t.run_until([&] { return t.log->count(R"(http 200 {"pong":true})") == 1; }));
    ASSERT_EQ(server.received().size(), 1u);
    const std::string request = server.received()[0];
    EXPECT_EQ(request.rfind("POST /hook HTTP/1.1\r\n", 0), 0u) << request;
    EXPECT_NE(request.find("\r\nx-fixture: " + header + "\r\n"), std::string::npos) << request;
    EXPECT_EQ(request.substr(request.size() - 4), "ping") << request;
  }
  t.log = std::make_shared<RecordingLogger>();
  {
    const LoadedPlugin loaded = load("http_url: \"" + server.base_url() + "/again\"\nhttp_cancel: true");
    EXPECT_EQ(t.log->count("http cancelled"), 1);
    // The second request's completion comes after anything the cancelled one could have done: only one ran.
    ASSERT_TRUE(t.run_until([&] { return t.log->count(R"(http 200 {"pong":true})") == 1; }));
    t.host.io().restart();
    t.host.io().poll();
    EXPECT_EQ(t.log->count(R"(http 200 {"pong":true})"), 1);
    EXPECT_EQ(t.log->count("the cancelled request completed"), 0);
  }
  t.log = std::make_shared<RecordingLogger>();
  const LoadedPlugin refused = load("http_url: \"http://127.0.0.1:1/\"");
  EXPECT_TRUE(t.run_until([&] { return t.log->starting("http error ") == 1; }));
}

TEST_F(ClientFixture, ACPluginsHttpRequestReachesALoopbackServerAndACancelledOneNeverCompletes) {
  expect_http_through(*this, "fixture-c-voice", PluginKind::voice_model, "c");
}

TEST_F(ClientFixture, TheCxxLayersHttpClientReachesALoopbackServerAndACancelledOneNeverCompletes) {
  expect_http_through(*this, "fixture-cxx-telephony", PluginKind::telephony, "cxx");
}

// A C plugin's WebSocket through the host's client: the upgrade carries its headers and target, a message goes each
// way, and a peer that is not there is reported as a failure.
TEST_F(ClientFixture, ACPluginsWebSocketTalksToALoopbackPeerAndAnAbsentPeerFails) {
  std::mutex mutex;
  std::string target, authorization;
  concierge::fakes::WsServerOptions options;
  options.judge_upgrade = [&](const concierge::fakes::UpgradeRequest& upgrade) {
    std::lock_guard lock(mutex);
    target = upgrade.target;
    authorization = upgrade.header("authorization").value_or("");
    return concierge::fakes::UpgradeVerdict::accept();
  };
  options.accept = [](std::shared_ptr<concierge::fakes::WsConnection> connection) {
    return std::make_shared<concierge::fakes::HelloWorldHandler>(std::move(connection));
  };
  concierge::fakes::WsServer server(std::move(options));
  {
    const LoadedPlugin plugin = load("ws_port: \"" + std::to_string(server.port()) + "\"");
    EXPECT_EQ(log->count("ws not open yet"), 1);  // send while connecting queues nothing
    ASSERT_TRUE(run_until([&] { return log->count("ws closed") == 1; }));
    EXPECT_EQ(log->count("ws open"), 1);
    EXPECT_EQ(log->count("ws message world"), 1);
    EXPECT_EQ(log->count("ws send failed"), 0);
    EXPECT_EQ(log->count("ws queued too much"), 0);
    std::lock_guard lock(mutex);
    EXPECT_EQ(target, "/echo");
    EXPECT_EQ(authorization, "Bearer c-fixture");
  }
  const LoadedPlugin absent = load("ws_port: \"1\"");
  EXPECT_TRUE(run_until([&] { return log->starting("ws failed ") == 1; }));
  EXPECT_EQ(log->count("ws open"), 1);  // only the first one's
}

// ---- C ABI 1.2: teardown requests (concierge_http_client_request.flags, CONCIERGE_HTTP_TEARDOWN) ----

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

// Accepts connections into its backlog and never reads or answers: each request sent there stays in flight.
class NeverAnsweringListener {
 public:
  NeverAnsweringListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd_, 64) != 0)
      throw std::runtime_error("cannot listen on loopback");
    socklen_t size = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    url_ = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/wait";
  }
  ~NeverAnsweringListener() { ::close(fd_); }
  const std::string& url() const { return url_; }

 private:
  int fd_ = -1;
  std::string url_;
};

struct TeardownCase {
  std::string plugin;
  PluginKind kind;
  std::string header;  // its x-fixture header when it sends a teardown
  bool can_say_teardown;
};
void PrintTo(const TeardownCase& c, std::ostream* out) { *out << c.plugin; }  // ctest's names, not the bytes

struct TeardownFixture : ::testing::TestWithParam<TeardownCase> {
  // 4 in flight, 1 kept for teardowns (the daemon's are 512 and 64; the rule is the same).
  ClientHost host{concierge::HttpClientLimits{4, 1}};
  std::shared_ptr<RecordingLogger> log = std::make_shared<RecordingLogger>();
  PluginLoader loader{kDir};
  NeverAnsweringListener silent;
  std::vector<concierge::HttpRequestId> ordinary;
  int ordinary_completed = 0;
  LoadedPlugin load(const std::string& url) {
    return loader.load(GetParam().plugin, GetParam().kind, concierge::PluginContext{host, log, kDir},
                       YAML::Load("http_url: \"" + url + "\"\nhttp_teardown: true"), "plugins.x.config",
                       "/etc/concierge.yaml");
  }
  // Fills the ordinary share (3 of 4) with requests the listener never answers.
  void fill_ordinary_share() {
    for (int i = 0; i < 3; ++i) {
      concierge::HttpClientRequest request;
      request.url = silent.url();
      request.timeout = std::chrono::seconds(60);
      ordinary.push_back(host.http().start(request, [this](const concierge::HttpClientResponse&) {
        ++ordinary_completed;
      }));
    }
    ASSERT_EQ(host.http().in_flight(), 3u);
  }
  template <class F>
  bool run_until(F done) {  // event-driven, never a fixed sleep
    return concierge::testing::run_io_until(host.io(), done, std::chrono::seconds(10));
  }
};

}  // namespace

// With the ordinary share of the host's client full of requests to a listener that never answers, a plugin's hang-up
// sent as a teardown (C: flags = CONCIERGE_HTTP_TEARDOWN; C++ layer: HttpClient::start_teardown) still goes out over
// a real socket and gets its response; a plugin that cannot say "teardown" (built against the frozen 1.1 header, or
// a request whose struct_size ends before `flags` although the flag is set past it) is refused as an ordinary
// request is, and served as one once there is room.
TEST_P(TeardownFixture, ATeardownGetsItsResponseWhileOrdinaryRequestsFillTheirShare) {
  concierge::testing::CannedHttpServer server(200, R"({"hung_up":true})");
  fill_ordinary_share();
  {
    const LoadedPlugin loaded = load(server.base_url() + "/hang-up");
    if (GetParam().can_say_teardown) {
      ASSERT_TRUE(run_until([&] { return log->count(R"(http 200 {"hung_up":true})") == 1; }));
      ASSERT_EQ(server.received().size(), 1u);
      EXPECT_EQ(server.received()[0].rfind("POST /hang-up HTTP/1.1\r\n", 0), 0u) << server.received()[0];
      EXPECT_NE(server.received()[0].find("\r\nx-fixture: " + GetParam().header + "\r\n"), std::string::npos)
          << server.received()[0];
    } else {
      ASSERT_TRUE(run_until([&] { return log->starting("http error ") == 1; }));
      EXPECT_EQ(log->count("http error too many HTTP requests in flight (3; 1 more kept for teardown requests)"), 1);
      EXPECT_EQ(server.requests(), 0);
    }
  }
  EXPECT_EQ(ordinary_completed, 0);  // the listener never answered; the plugin's request did not wait behind them
  // Room again: every plugin's request is served, a teardown or an ordinary one.
  for (const auto id : ordinary) host.http().cancel(id);
  log = std::make_shared<RecordingLogger>();
  const LoadedPlugin again = load(server.base_url() + "/hang-up");
  ASSERT_TRUE(run_until([&] { return log->count(R"(http 200 {"hung_up":true})") == 1; }));
}

INSTANTIATE_TEST_SUITE_P(
    CAbi12, TeardownFixture,
    ::testing::Values(TeardownCase{"fixture-c-voice", PluginKind::voice_model, "c-teardown", true},
                      TeardownCase{"fixture-c-snapshot-1-2", PluginKind::voice_model, "c-teardown", true},
                      TeardownCase{"fixture-cxx-telephony", PluginKind::telephony, "cxx-teardown", true},
                      TeardownCase{"fixture-c-snapshot-1-1", PluginKind::voice_model, "", false},
                      TeardownCase{"fixture-c-short-request", PluginKind::voice_model, "", false}),
    [](const ::testing::TestParamInfo<TeardownCase>& info) {
      std::string name = info.param.plugin.substr(std::string("fixture-").size());
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

// A plugin built against the frozen C ABI 1.2 header (tests/abi/1.2) loads and runs a session.
TEST_F(Fixture, APluginBuiltAgainstTheFrozen12HeaderLoadsAndRuns) {
  const LoadedPlugin plugin = load("fixture-c-snapshot-1-2");
  EXPECT_TRUE(plugin.c_abi);
  EXPECT_EQ(plugin.c_abi_major, 1u);
  EXPECT_EQ(plugin.c_abi_minor, 2u);
  auto events = std::make_shared<Events>();
  auto session = plugin.instance.voice_model->open_session({}, events);
  ASSERT_TRUE(run_until([&] { return events->ready == 1; }));
  std::vector<std::uint8_t> bytes(160, 0x33);
  session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), bytes, 0});
  ASSERT_EQ(events->audio.size(), 1u);
  EXPECT_EQ(events->audio[0], bytes);
}

// ---- C ABI 1.3: a refused WebSocket upgrade as data (concierge_ws_client_listener.on_refused) ----

namespace {
struct RefusalCase {
  std::string plugin;
  bool hears_data;  // its listener has on_refused (and its struct_size covers it)
};
void PrintTo(const RefusalCase& c, std::ostream* out) { *out << c.plugin; }

struct RefusalFixture : ::testing::TestWithParam<RefusalCase> {
  ClientHost host;
  std::shared_ptr<RecordingLogger> log = std::make_shared<RecordingLogger>();
  PluginLoader loader{kDir};
  // The loopback peer (its own thread) refuses every upgrade with verdict().
  std::mutex mutex;
  concierge::fakes::UpgradeVerdict verdict_;
  void refuse_with(concierge::fakes::UpgradeVerdict verdict) {
    std::lock_guard lock(mutex);
    verdict_ = std::move(verdict);
  }
  concierge::fakes::WsServer server{[this] {
    concierge::fakes::WsServerOptions options;
    options.judge_upgrade = [this](const concierge::fakes::UpgradeRequest&) {
      std::lock_guard lock(mutex);
      return verdict_;
    };
    options.accept = [](std::shared_ptr<concierge::fakes::WsConnection> connection) {
      return std::make_shared<concierge::fakes::HelloWorldHandler>(std::move(connection));
    };
    return options;
  }()};
  LoadedPlugin load(const std::string& extra = "") {
    return loader.load(GetParam().plugin, PluginKind::voice_model, concierge::PluginContext{host, log, kDir},
                       YAML::Load("ws_port: \"" + std::to_string(server.port()) + "\"\n" + extra),
                       "plugins.voice_model.config", "/etc/concierge.yaml");
  }
  template <class F>
  bool run_until(F done) {  // event-driven, never a fixed sleep
    return concierge::testing::run_io_until(host.io(), done, std::chrono::seconds(10));
  }
};
}  // namespace

// A plugin whose listener has on_refused hears a refused upgrade's HTTP status and detail as data (a 401 with
// OpenAI's JSON error body: its error.message; a 403 with a plain body: the body), then on_failed's sentence; one
// built against the frozen 1.2 header (or whose listener's struct_size ends before on_refused although it is set)
// hears the sentence only, worded exactly as before 1.3.
TEST_P(RefusalFixture, ARefusedUpgradeCrossesAsStatusAndDetailOrAsTheSentenceAlone) {
  const std::string sentence = "ws failed the fixture's peer refused the WebSocket upgrade (HTTP ";
  refuse_with({401, R"({"error":{"message":"Incorrect API key provided: sk-***"}})"});
  {
    const LoadedPlugin plugin = load();
    ASSERT_TRUE(run_until([&] { return log->starting("ws failed ") == 1; })) << log->all();
    EXPECT_EQ(log->count(sentence + "401: Incorrect API key provided: sk-***)"), 1) << log->all();
    EXPECT_EQ(log->count("ws upgrade refused 401 [Incorrect API key provided: sk-***]"), GetParam().hears_data ? 1 : 0)
        << log->all();
    EXPECT_EQ(log->starting("ws upgrade refused "), GetParam().hears_data ? 1 : 0) << log->all();
    EXPECT_EQ(log->count("ws open"), 0);
  }
  refuse_with({403, "this project may not use realtime"});
  const LoadedPlugin plugin = load();
  ASSERT_TRUE(run_until([&] { return log->starting("ws failed ") == 2; })) << log->all();
  EXPECT_EQ(log->count(sentence + "403: this project may not use realtime)"), 1) << log->all();
  EXPECT_EQ(log->count("ws upgrade refused 403 [this project may not use realtime]"), GetParam().hears_data ? 1 : 0)
      << log->all();
  if (GetParam().hears_data) {  // on_refused came first, then on_failed
    const std::string all = log->all();
    EXPECT_LT(all.find("ws upgrade refused 403"), all.find(sentence + "403")) << all;
  }
}

// A plugin that closes the client from inside on_refused is told nothing more (no on_failed), and the host frees the
// client only once on_refused has returned; a plugin without on_refused is told on_failed's sentence as ever.
TEST_P(RefusalFixture, ClosingFromInsideOnRefusedEndsTheClientThere) {
  refuse_with({429, R"({"error":{"message":"slow down"}})"});
  const LoadedPlugin plugin = load("close_in_refused: true\n");
  if (GetParam().hears_data) {
    ASSERT_TRUE(run_until([&] { return log->count("ws closed in on_refused") == 1; })) << log->all();
    EXPECT_EQ(log->count("ws upgrade refused 429 [slow down]"), 1) << log->all();
    host.io().restart();
    host.io().poll();
    EXPECT_EQ(log->starting("ws failed "), 0) << log->all();
  } else {
    ASSERT_TRUE(run_until([&] { return log->starting("ws failed ") == 1; })) << log->all();
    EXPECT_EQ(log->count("ws failed the fixture's peer refused the WebSocket upgrade (HTTP 429: slow down)"), 1)
        << log->all();
    EXPECT_EQ(log->starting("ws upgrade refused "), 0) << log->all();
    EXPECT_EQ(log->count("ws closed in on_refused"), 0) << log->all();
  }
}

INSTANTIATE_TEST_SUITE_P(CAbi13, RefusalFixture,
                         ::testing::Values(RefusalCase{"fixture-c-voice", true},
                                           RefusalCase{"fixture-c-snapshot-1-3", true},
                                           RefusalCase{"fixture-c-snapshot-1-2", false},
                                           RefusalCase{"fixture-c-short-listener", false}),
                         [](const ::testing::TestParamInfo<RefusalCase>& info) {
                           std::string name = info.param.plugin.substr(std::string("fixture-").size());
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// A plugin built against the frozen C ABI 1.3 header (tests/abi/1.3) loads and runs a session.
TEST_F(Fixture, APluginBuiltAgainstTheFrozen13HeaderLoadsAndRuns) {
  const LoadedPlugin plugin = load("fixture-c-snapshot-1-3");
  EXPECT_TRUE(plugin.c_abi);
  EXPECT_EQ(plugin.c_abi_major, 1u);
  EXPECT_EQ(plugin.c_abi_minor, 3u);
  auto events = std::make_shared<Events>();
  auto session = plugin.instance.voice_model->open_session({}, events);
  ASSERT_TRUE(run_until([&] { return events->ready == 1; }));
  std::vector<std::uint8_t> bytes(160, 0x44);
  session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), bytes, 0});
  ASSERT_EQ(events->audio.size(), 1u);
  EXPECT_EQ(events->audio[0], bytes);
}
