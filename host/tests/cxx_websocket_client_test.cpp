// The C++ layer's WebSocket client (concierge/cxx/websocket_client.hpp, cxx::WebSocketClientOverC over abi.h's
// ws_client_* entries), in a real plugin (fixtures/cxx_ws_fixture.cpp) loaded by the daemon's loader, against a
// loopback peer (tests/fakes/ws-server), plain and TLS: the upgrade carries the target and header, messages cross
// both ways, closing from inside the listener is safe, a refusal is worded by describe_refusal from the status and
// detail the host gives as data (C ABI 1.3's on_refused), options the host refuses fail from the loop (never inside
// start), a client still open when the instance goes is forgotten, never touched again, and prepare_tls loads a CA
// file ahead (at once) or the system's store (on a worker, once).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "concierge/net/asio.hpp"
#include "concierge/plugin.hpp"
#include "concierge_fakes/hello_world_handler.hpp"
#include "concierge_fakes/ws_server.hpp"
#include "plugin_loader.hpp"
#include "asio_event_loop.hpp"  // sdk/testing: run_io_until
#include "recording_logger.hpp"

namespace concierge_cxx_ws_test {

using concierge::host::LoadedPlugin;
using concierge::host::PluginLoader;

using concierge::testing::RecordingLogger;

class LoopHost final : public concierge::HostServices {
 public:
  boost::asio::io_context& io() override { return io_; }
  // Inline, or kept for the test to run (the daemon's run on a worker thread).
  void run_blocking(std::function<void()> work) override {
    if (defer_blocking)
      deferred.push_back(std::move(work));
    else
      work();
  }
  bool defer_blocking = false;
  std::vector<std::function<void()>> deferred;
  std::string public_domain() const override { return ""; }
  std::shared_ptr<concierge::CallEvents> accept_inbound_call(const concierge::InboundCall&) override { return nullptr; }

 private:
  boost::asio::io_context io_;
};

struct CxxWebSocketClient : ::testing::Test {
  LoopHost host;
  std::shared_ptr<RecordingLogger> log = std::make_shared<RecordingLogger>();
  PluginLoader loader{CONCIERGE_TEST_PLUGIN_DIR};
  std::mutex mutex;
  std::string target, authorization;
  concierge::fakes::UpgradeVerdict verdict = concierge::fakes::UpgradeVerdict::accept();

  std::unique_ptr<concierge::fakes::WsServer> serve(std::optional<concierge::fakes::TestPki> tls = std::nullopt) {
    concierge::fakes::WsServerOptions options;
    options.tls = std::move(tls);
    options.judge_upgrade = [this](const concierge::fakes::UpgradeRequest& upgrade) {
      std::lock_guard lock(mutex);
      target = upgrade.target;
      authorization = upgrade.header("authorization").value_or("");
      return verdict;
    };
    options.accept = [](std::shared_ptr<concierge::fakes::WsConnection> connection) {
      return std::make_shared<concierge::fakes::HelloWorldHandler>(std::move(connection));
    };
    return std::make_unique<concierge::fakes::WsServer>(std::move(options));
  }
  LoadedPlugin load(const std::string& yaml) {
    return loader.load("fixture-cxx-ws", concierge::PluginKind::voice_model,
                       concierge::PluginContext{host, log, CONCIERGE_TEST_PLUGIN_DIR}, YAML::Load(yaml),
                       "plugins.voice_model.config", "/etc/concierge.yaml");
  }
  template <class F>
  bool run_until(F done) {  // event-driven, never a fixed sleep
    return concierge::testing::run_io_until(host.io(), done, std::chrono::seconds(10));
  }
  static std::string port_of(const concierge::fakes::WsServer& server) {
    return "ws_port: \"" + std::to_string(server.port()) + "\"\n";
  }
};

TEST_F(CxxWebSocketClient, TalksToALoopbackPeerAndClosesFromInsideItsListener) {
  auto server = serve();
  {
    const LoadedPlugin plugin = load(port_of(*server));
    EXPECT_TRUE(plugin.c_abi);
    EXPECT_EQ(log->count("ws not open yet"), 1);  // a send while connecting queues nothing
    ASSERT_TRUE(run_until([&] { return log->count("ws closed") == 1; })) << log->all();
    EXPECT_EQ(log->count("ws open"), 1);
    EXPECT_EQ(log->count("ws sent"), 1);
    EXPECT_EQ(log->count("ws message world"), 1);
    EXPECT_EQ(log->starting("ws failed"), 0) << log->all();
    std::lock_guard lock(mutex);
    EXPECT_EQ(target, "/echo");
    EXPECT_EQ(authorization, "Bearer cxx-fixture");
  }
  EXPECT_EQ(log->count("probe destroyed"), 1);
}

// The host reads the CA file once per instance (loading a CA store costs ~30 ms): the second client connects after
// the file is gone.
TEST_F(CxxWebSocketClient, SpeaksTlsTrustingTheConfiguredCaFileReadOnce) {
  const auto pki = concierge::fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  auto server = serve(pki);
  const std::string ca = concierge::fakes::write_temp_file("cxx-ws-ca.pem", pki.ca_pem);
  const LoadedPlugin plugin = load(port_of(*server) + "tls: true\nreconnect: true\nca_file: \"" + ca + "\"\n");
  std::filesystem::remove(ca);  // read already: this test's host runs blocking work inline, inside ws_client_open
  ASSERT_TRUE(run_until([&] { return log->count("ws closed") == 2 || log->starting("ws failed") > 0; }))
      << log->all();
  EXPECT_EQ(log->count("ws message world"), 2) << log->all();
  EXPECT_EQ(log->starting("ws failed"), 0) << log->all();
}

// The first wss:// client of a CA file does not load it on the loop (tens of milliseconds for a CA store): the host
// hands the load to a blocking worker and makes the connection once it is back. Until then send queues nothing.
TEST_F(CxxWebSocketClient, TheCaFileIsLoadedByABlockingWorkerNotOnTheLoop) {
  const auto pki = concierge::fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  auto server = serve(pki);
  const std::string ca = concierge::fakes::write_temp_file("cxx-ws-deferred-ca.pem", pki.ca_pem);
  host.defer_blocking = true;
  const LoadedPlugin plugin = load(port_of(*server) + "tls: true\nca_file: \"" + ca + "\"\n");
  ASSERT_EQ(host.deferred.size(), 1u);  // the CA file's load, handed to a worker
  EXPECT_EQ(log->count("ws not open yet"), 1);
  host.io().restart();
  host.io().poll();
  EXPECT_EQ(log->count("ws open"), 0);  // nothing connects before the context is there
  EXPECT_EQ(log->starting("ws failed"), 0) << log->all();
  host.deferred.front()();
  ASSERT_TRUE(run_until([&] { return log->count("ws closed") == 1 || log->starting("ws failed") > 0; }))
      << log->all();
  EXPECT_EQ(log->count("ws message world"), 1) << log->all();
  std::filesystem::remove(ca);
}

// The instance goes while its CA file is still being loaded: the load's completion finds the instance closed and
// touches nothing of it (the waiting client was ended with the instance).
TEST_F(CxxWebSocketClient, AnInstanceThatGoesWhileItsCaFileLoadsIsLeftAlone) {
  const auto pki = concierge::fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  auto server = serve(pki);
  const std::string ca = concierge::fakes::write_temp_file("cxx-ws-gone-ca.pem", pki.ca_pem);
  host.defer_blocking = true;
  {
    const LoadedPlugin plugin = load(port_of(*server) + "tls: true\nkeep_open: true\nca_file: \"" + ca + "\"\n");
    ASSERT_EQ(host.deferred.size(), 1u);
  }
  EXPECT_EQ(log->count("probe destroyed"), 1);
  host.deferred.front()();
  host.deferred.clear();
  host.io().restart();
  host.io().poll();
  EXPECT_EQ(log->count("ws open"), 0) << log->all();
  EXPECT_EQ(log->starting("ws failed"), 0) << log->all();
  std::filesystem::remove(ca);
}

TEST_F(CxxWebSocketClient, ARefusalIsWordedFromItsStatusAndDetail) {
  verdict = concierge::fakes::UpgradeVerdict{401, R"({"error":{"message":"Incorrect API key provided"}})"};
  auto server = serve();
  {
    const LoadedPlugin plugin = load(port_of(*server) + "refusal_words: true\n");
    ASSERT_TRUE(run_until([&] { return log->starting("ws failed") == 1; }));
    EXPECT_EQ(log->count("ws failed refused 401 [Incorrect API key provided]"), 1) << log->all();
  }
  // Without describe_refusal the host's own sentence comes through as it is.
  const LoadedPlugin plugin = load(port_of(*server));
  ASSERT_TRUE(run_until([&] { return log->starting("ws failed") == 2; }));
  EXPECT_EQ(log->count("ws failed fixture-peer refused the WebSocket upgrade (HTTP 401: Incorrect API key provided)"),
            1)
      << log->all();
  EXPECT_EQ(log->count("ws open"), 0);
}

// prepare_tls (C ABI 1.3's ws_client_prepare_tls) from create() loads a PEM bundle at once, so the first wss://
// client connects without waiting for a worker to load it; one whose certificate does not load is refused there,
// in words that name the file (what the OpenAI plugins turn into a config error on ca_file).
TEST_F(CxxWebSocketClient, PreparingACaFileLoadsItAtOnceAndRefusesOneThatDoesNotLoad) {
  const auto pki = concierge::fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  auto server = serve(pki);
  const std::string ca = concierge::fakes::write_temp_file("cxx-ws-prepared-ca.pem", pki.ca_pem);
  host.defer_blocking = true;  // nothing is loaded by a worker unless the test runs it
  {
    const LoadedPlugin plugin = load(port_of(*server) + "tls: true\nprepare: true\nca_file: \"" + ca + "\"\n");
    EXPECT_EQ(log->count("tls prepared"), 1) << log->all();
    EXPECT_TRUE(host.deferred.empty());  // loaded by prepare_tls; the client did not ask a worker again
    ASSERT_TRUE(run_until([&] { return log->count("ws closed") == 1 || log->starting("ws failed") > 0; }))
        << log->all();
    EXPECT_EQ(log->count("ws message world"), 1) << log->all();
  }
  std::filesystem::remove(ca);
  // PEM armour around something that is not a certificate: a text check passes it, OpenSSL does not.
  const std::string bad = concierge::fakes::write_temp_file(
      "cxx-ws-bad-ca.pem", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
  {
    const LoadedPlugin plugin =
        load("ws_port: \"1\"\ntls: true\nprepare: true\nkeep_open: true\nca_file: \"" + bad + "\"\n");
    EXPECT_EQ(log->starting("tls prepare failed could not load " + bad + ": "), 1) << log->all();
    EXPECT_EQ(host.deferred.size(), 1u);  // not kept: the client asks a worker to read the file again
  }
  host.deferred.front()();  // the instance has gone: the load's completion touches nothing of it
  host.deferred.clear();
  host.io().restart();
  host.io().poll();
  std::filesystem::remove(bad);
}

// prepare_tls of the system's store ("") hands the load to a worker and returns at once; a client opened meanwhile
// waits for that load instead of starting a second one.
TEST_F(CxxWebSocketClient, PreparingTheSystemStoreLoadsItOnceOnAWorker) {
  host.defer_blocking = true;
  const LoadedPlugin plugin = load("ws_port: \"1\"\ntls: true\nprepare: true\n");
  EXPECT_EQ(log->count("tls prepared"), 1) << log->all();
  ASSERT_EQ(host.deferred.size(), 1u);  // one load, for prepare_tls and the client together
  host.io().restart();
  host.io().poll();
  EXPECT_EQ(log->starting("ws failed"), 0) << log->all();  // the client waits for the store
  host.deferred.front()();
  host.deferred.clear();
  // Nothing listens on port 1: once the store is there, the client connects and fails for that reason.
  ASSERT_TRUE(run_until([&] { return log->starting("ws failed") == 1; })) << log->all();
  EXPECT_TRUE(host.deferred.empty());
}

TEST_F(CxxWebSocketClient, OptionsTheHostRefusesFailFromTheLoopNeverInsideStart) {
  const LoadedPlugin plugin = load("ws_port: \"1\"\ntls: true\nca_file: /nonexistent/ca.pem\n");
  EXPECT_EQ(log->count("ws started"), 1);
  EXPECT_EQ(log->starting("ws failed"), 0);  // not inside start()
  ASSERT_TRUE(run_until([&] { return log->starting("ws failed could not connect to fixture-peer: ") == 1; }))
      << log->all();
  EXPECT_NE(log->all().find("/nonexistent/ca.pem"), std::string::npos) << log->all();
}

TEST_F(CxxWebSocketClient, AClientStillOpenWhenTheInstanceGoesIsForgottenNotTouched) {
  auto server = serve();
  {
    const LoadedPlugin plugin = load(port_of(*server) + "keep_open: true\n");
    ASSERT_TRUE(run_until([&] { return log->count("ws message world") == 1; })) << log->all();
  }  // the host closes the client, then the plugin's destroy frees the probe that still holds it
  EXPECT_EQ(log->count("probe destroyed"), 1);
  host.io().restart();
  host.io().poll();
  EXPECT_EQ(log->starting("ws failed"), 0) << log->all();
}

}  // namespace concierge_cxx_ws_test
