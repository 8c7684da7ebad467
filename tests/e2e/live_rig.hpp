#pragma once
// End-to-end rig for GPT-Live: config/twilio-live.yaml (twilio + openai-live + reservation-agent) in the real
// concierge-host, with only TWILIO_API_BASE_URL and OPENAI_LIVE_URL pointed at the loopback fakes.
//
//   concierge (CLI) --HTTP--> concierge-host --REST--> fake Twilio --signed webhooks, wss:// media--> concierge-host
//                                            --wss:// (GPT-Live primary WebSocket)--> fake GPT-Live
#include "concierge_fakes/fake_live_server.hpp"
#include <cstdlib>

#include "e2e.hpp"

namespace concierge::e2e {

namespace fl = concierge::fakes::live;

inline std::string twilio_live_config() { return std::string(CONCIERGE_SOURCE_DIR) + "/config/twilio-live.yaml"; }

// A whole booking as the fake GPT-Live plays it; the backend's tool calls come through the Responses delegation.
inline fl::FakeScript live_booking_script(const std::string& confirmation, const std::string& date,
                                          int party_size = 4, const std::string& time = "19:00") {
  namespace ls = fl::step;
  fl::FakeScript script;
  const json confirm{{"confirmation_number", confirmation}, {"date", date}, {"time", time}, {"party_size", party_size}};
  script.steps = {
      ls::callee_says("Hello, Demo Restaurant, how can I help you?", 300),
      ls::agent_says("Hi! I'd like to book a table for " + std::to_string(party_size) + " people tomorrow at 7 PM.",
                     600),
      ls::delay(600 + 400),
      ls::callee_says("Sure. Under what name?", 300),
      ls::agent_says("Under Alex Morgan, please.", 400),
      ls::delay(400 + 400),
      ls::callee_says("That works. Your confirmation number is " + confirmation + ".", 400),
      ls::function_call("confirm_reservation", confirm.dump()),
      ls::wait_for("response.item.create"),
      ls::wait_for("response.create"),
      ls::agent_says("Wonderful, thank you so much. Goodbye!", 500),
      ls::function_call("end_call",
                        json{{"reason", "confirmed"}, {"summary", "Booked, confirmation " + confirmation}}.dump()),
      ls::wait_for("response.item.create"),
  };
  return script;
}

// The restaurant's audio on the Twilio side, roughly in step with the script.
inline std::shared_ptr<ft::CalleeScript> live_callee_audio_for(const fl::FakeScript& script) {
  auto audio = std::make_shared<ft::SegmentScript>();
  audio->pause(100ms);
  for (const auto& s : script.steps) {
    using K = fl::ScriptStep::Kind;
    if (s.kind == K::callee_says) audio->say(ft::tone_mulaw(350, std::chrono::milliseconds(s.ms)));
    else if (s.kind == K::agent_says || s.kind == K::delay) audio->pause(std::chrono::milliseconds(s.ms));
  }
  audio->stay_on_line();
  return audio;
}

struct LiveRigOptions {
  ft::FakeTwilioOptions twilio = default_twilio_options();
  fl::FakeScript script = live_booking_script("4711", tomorrow_iso());
  std::map<std::string, std::string> env;
};

class LiveRig {
 public:
  explicit LiveRig(LiveRigOptions options = {}) : options_(std::move(options)) {
    if (!options_.twilio.callee) {
      auto script = options_.script;
      options_.twilio.callee = [script](const ft::CreatedCall&) { return live_callee_audio_for(script); };
    }
    twilio_ = std::make_unique<ft::FakeTwilio>(options_.twilio);
    fl::FakeLiveOptions live;
    live.api_key = kApiKey;
    live.script = options_.script;
    live.tls = fakes::make_test_pki({"localhost"}, {"127.0.0.1"});  // wss:// as in production, with a test CA
    // The callee answers what they heard: every agent byte sent (less the late deltas of a reply talked over, which
    // the plugin drops) has been played or cleared on the Twilio line. Called on the fake's thread; the script plays
    // only once the daemon connects, after both fakes exist, and is over before the rig destroys them.
    live.callee_heard_the_agent = [this] {
      if (!live_ || !twilio_) return false;
      std::size_t done = 0;
      for (const auto& c : twilio_->calls()) done += c.agent_bytes_played + c.agent_bytes_dropped;
      return done >= live_->agent_audio_bytes_sent() - live_->late_audio_bytes_sent();
    };
    ca_file_ = fakes::write_temp_file("live-ca.pem", live.tls->ca_pem);
    live_ = std::make_unique<fl::FakeLiveServer>(live);
    database_ = Rig::temp_file("live-calls", ".db");
    env_ = {
        {"TWILIO_ACCOUNT_SID", kAccountSid},
        {"TWILIO_AUTH_TOKEN", kAuthToken},
        {"TWILIO_PHONE_NUMBER", kTestFrom},
        {"PUBLIC_DOMAIN", kPublicDomain},
        {"OPENAI_API_KEY", kApiKey},
        {"CUSTOMER_NAME", "Alex Morgan"},
        {"DEMO_RESTAURANT_PHONE", kRestaurantPhone},  // a valid number: the destination policy refuses +1234567890
        {"CALL_DATABASE", database_},
        {"LOG_LEVEL", "INFO"},
        {"TWILIO_API_BASE_URL", twilio_->base_url()},
        {"OPENAI_LIVE_URL", live_->url()},
        // The fake's certificate is signed by a test CA; the system store is what production uses. SSL_CERT_FILE
        // makes OpenSSL's default verify paths the test CA, so the YAML stays the production one.
        {"SSL_CERT_FILE", ca_file_},
    };
    for (const auto& [k, v] : options_.env) env_[k] = v;
    daemon_ = std::make_unique<testing::Daemon>(twilio_live_config(), env_);
    if (!daemon_->started()) {
      ADD_FAILURE() << "the daemon did not start:\n" << daemon_->output();
      return;
    }
    twilio_->set_daemon_port(static_cast<std::uint16_t>(daemon_->port()));
  }
  ~LiveRig() {
    daemon_.reset();  // the call ends, the plugin's last events (session.close) reach the fake
    write_events_for_conformance();
    live_.reset();
    twilio_.reset();
    std::error_code ignored;
    std::filesystem::remove(database_, ignored);
    std::filesystem::remove(ca_file_, ignored);
  }

  ft::FakeTwilio& twilio() { return *twilio_; }
  fl::FakeLiveServer& live() { return *live_; }
  testing::Daemon& daemon() { return *daemon_; }
  std::string url() const { return daemon_->url(); }

  testing::RunResult book(const std::string& request, std::chrono::seconds limit = 60s) {
    return testing::run_program(CONCIERGE_CLI_BINARY, {"--server", url(), "book", request}, limit);
  }
  std::string place(const json& fields) {
    const auto r = testing::http_post(url() + "/calls", json{{"fields", fields}}.dump());
    if (r.status != 201) {
      ADD_FAILURE() << "POST /calls answered " << r.status << ": " << r.body;
      return "";
    }
    return parse(r.body).value("call_id", "");
  }
  json record(const std::string& call_id) {
    const auto r = testing::http_get(url() + "/calls/" + call_id + "/status");
    return r.status == 200 ? parse(r.body) : json();
  }
  json wait_for_end(const std::string& call_id, std::chrono::milliseconds limit = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    json last;
    while (std::chrono::steady_clock::now() < deadline) {
      last = record(call_id);
      if (last.is_object() && last.contains("result") && !last["result"].is_null()) return last;
      std::this_thread::sleep_for(25ms);
    }
    ADD_FAILURE() << "call " << call_id << " did not end in time: " << last.dump() << "\n" << daemon_->output();
    return last;
  }
  std::string only_call_id() {
    const json calls = parse(testing::http_get(url() + "/calls").body)["calls"];
    if (calls.size() != 1) {
      ADD_FAILURE() << "expected exactly one call, found " << calls.dump();
      return "";
    }
    return calls[0].value("call_id", "");
  }

 private:
  // CONCIERGE_LIVE_EVENTS_DIR set (tests/conformance/live/run.sh): every client event the plugin sent and every server
  // event the fake sent, for the TypeScript check against openai's live.d.ts.
  void write_events_for_conformance() {
    const char* dir = std::getenv("CONCIERGE_LIVE_EVENTS_DIR");
    if (!dir || !*dir || !live_) return;
    std::vector<json> client;
    for (auto& e : live_->client_events())
      if (e.value("type", "") != "<malformed>") client.push_back(std::move(e));
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string name = test ? std::string(test->test_suite_name()) + "." + test->name() : "unknown";
    static int counter = 0;
    std::filesystem::create_directories(dir);
    std::ofstream(std::string(dir) + "/events-" + name + "-" + std::to_string(::getpid()) + "-" +
                  std::to_string(++counter) + ".json")
        << json{{"test", name}, {"client", client}, {"server", live_->server_events()}}.dump();
  }

  LiveRigOptions options_;
  std::unique_ptr<ft::FakeTwilio> twilio_;
  std::unique_ptr<fl::FakeLiveServer> live_;
  std::unique_ptr<testing::Daemon> daemon_;
  std::map<std::string, std::string> env_;
  std::string database_;
  std::string ca_file_;
};

}  // namespace concierge::e2e
