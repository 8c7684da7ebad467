#pragma once
// End-to-end rig for real-call tests: the production plugin set (config/twilio.yaml: twilio + openai-realtime +
// reservation-agent) in the real concierge-host, with only the two provider base URLs pointed at the loopback fakes
// (TWILIO_API_BASE_URL, OPENAI_REALTIME_URL). Everything else is what a user's .env gives the daemon.
//
//   concierge (CLI) --HTTP--> concierge-host --REST--> fake Twilio --signed webhooks, wss:// media--> concierge-host
//                                            --WebSocket (GA Realtime)--> fake OpenAI
//
// The fake Twilio maps https://PUBLIC_DOMAIN and wss://PUBLIC_DOMAIN to the daemon's loopback port, as ngrok would.
// The fake OpenAI plays the restaurant's side of the conversation (transcription events for what the restaurant
// says, its own audio deltas for the agent's speech); the fake Twilio streams the restaurant's audio frames.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge_fakes/fake_openai_server.hpp"
#include "daemon_process.hpp"
#include "fake_twilio/fake_twilio.hpp"
#include "http_client.hpp"

namespace concierge::e2e {

using json = nlohmann::json;
using namespace std::chrono_literals;
namespace ft = concierge::fake_twilio;
namespace fo = concierge::fakes;
namespace step = concierge::fakes::step;

// The credentials the fakes accept and the daemon is given (a Twilio Account SID is "AC" + 32 hex digits).
inline const std::string kAccountSid = "AC0e2e0000000000000000000000000e2e";
inline const std::string kAuthToken = "e2e-auth-token-0123456789abcdef";
inline const std::string kPublicDomain = "concierge-e2e.ngrok.test";
inline const std::string kApiKey = "sk-e2e-test-key";
inline const std::string kTestFrom = "+15005550006";  // Twilio's magic "valid From" for test credentials
// DEMO_RESTAURANT_PHONE. Its default in config/twilio.yaml, the seed's +1234567890, is no valid number, and the
// destination policy refuses it; this one is (a NANP 555-01xx fictional number, valid to libphonenumber).
inline const std::string kRestaurantPhone = "+12125550100";

inline std::string twilio_config() { return std::string(CONCIERGE_SOURCE_DIR) + "/config/twilio.yaml"; }

// "tomorrow" as the reservation agent reads it (its time_zone defaults to the machine's local zone).
inline std::string tomorrow_iso() {
  const std::time_t t = std::time(nullptr) + 24 * 3600;
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &tm);
  return text;
}

inline json parse(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded()) ADD_FAILURE() << "not JSON: " << text;
  return j;
}

inline bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// A whole booking as the fake OpenAI plays it: the restaurant answers, the agent asks (its audio deltas), the
// restaurant confirms with `confirmation`, the model calls confirm_reservation (waits for our function_call_output
// and response.create), says goodbye and calls end_call. After each agent reply the script waits until the line has
// played it (plus a margin) before the restaurant speaks again, so nothing in here is a barge-in.
inline fo::FakeScript booking_script(const std::string& confirmation, const std::string& date, int party_size = 4,
                                     const std::string& time = "19:00") {
  fo::FakeScript script;
  const json confirm{{"confirmation_number", confirmation}, {"date", date}, {"time", time}, {"party_size", party_size}};
  script.steps = {
      step::callee_says("Hello, Demo Restaurant, how can I help you?", 300),
      step::agent_says("Hi! I'd like to book a table for " + std::to_string(party_size) + " people tomorrow at 7 PM.",
                       600),
      step::delay(600 + 400),
      step::callee_says("Sure. Under what name?", 300),
      step::agent_says("Under Alex Morgan, please.", 400),
      step::delay(400 + 400),
      step::callee_says("That works. Your confirmation number is " + confirmation + ".", 400),
      step::function_call("confirm_reservation", confirm.dump()),
      step::wait_for("conversation.item.create"),
      step::wait_for("response.create"),
      step::agent_says("Wonderful, thank you so much. Goodbye!", 500),
      step::function_call("end_call",
                          json{{"reason", "confirmed"}, {"summary", "Booked, confirmation " + confirmation}}.dump()),
      step::wait_for("conversation.item.create"),
  };
  return script;
}

// The restaurant's audio on the Twilio side, roughly in step with the script: a tone while it talks, silence while
// the agent talks, then silence until the daemon hangs up.
inline std::shared_ptr<ft::CalleeScript> callee_audio_for(const fo::FakeScript& script) {
  auto audio = std::make_shared<ft::SegmentScript>();
  audio->pause(100ms);
  for (const auto& s : script.steps) {
    using K = fo::ScriptStep::Kind;
    if (s.kind == K::callee_says) audio->say(ft::tone_mulaw(350, std::chrono::milliseconds(s.ms)));
    else if (s.kind == K::agent_says || s.kind == K::delay) audio->pause(std::chrono::milliseconds(s.ms));
  }
  audio->stay_on_line();
  return audio;
}

inline ft::FakeTwilioOptions default_twilio_options() {
  ft::FakeTwilioOptions o;
  o.account_sid = kAccountSid;
  o.auth_token = kAuthToken;
  o.public_domain = kPublicDomain;
  o.ring_time = 200ms;
  o.speed = 1.0;  // real-time 20 ms frames: the line plays agent audio at 1x, as a phone does
  return o;
}

struct RigOptions {
  ft::FakeTwilioOptions twilio = default_twilio_options();
  fo::FakeScript script = booking_script("4711", tomorrow_iso());
  bool callee_from_script = true;           // the Twilio side speaks in step with `script` (unless twilio.callee set)
  std::map<std::string, std::string> env;  // overrides of the daemon's .env values
  std::string database;                     // "" = a fresh temporary SQLite file, removed at the end
};

// The fakes, then the daemon on config/twilio.yaml with a .env the way a user writes it.
class Rig {
 public:
  explicit Rig(RigOptions options = {})
      : options_(prepare(std::move(options))),
        twilio_(std::make_unique<ft::FakeTwilio>(options_.twilio)),
        openai_(std::make_unique<fo::FakeOpenAIServer>(openai_options(options_))) {
    owns_database_ = options_.database.empty();
    database_ = owns_database_ ? temp_file("calls", ".db") : options_.database;
    env_ = {
        {"TWILIO_ACCOUNT_SID", kAccountSid},
        {"TWILIO_AUTH_TOKEN", kAuthToken},
        {"TWILIO_PHONE_NUMBER", kTestFrom},
        {"PUBLIC_DOMAIN", kPublicDomain},
        {"OPENAI_API_KEY", kApiKey},
        {"CUSTOMER_NAME", "Alex Morgan"},
        {"DEMO_RESTAURANT_PHONE", kRestaurantPhone},
        {"TWILIO_ALLOW_TEST_NUMBERS", "true"},  // the magic To numbers of Twilio's test credentials
        {"CALL_DATABASE", database_},
        {"LOG_LEVEL", "INFO"},
        // The only two values that differ from a real deployment: where Twilio's API and OpenAI's socket are.
        {"TWILIO_API_BASE_URL", twilio_->base_url()},
        {"OPENAI_REALTIME_URL", openai_->url()},
    };
    for (const auto& [k, v] : options_.env) env_[k] = v;
    start_daemon();
  }
  ~Rig() {
    daemon_.reset();
    openai_.reset();
    twilio_.reset();
    if (owns_database_) {
      std::error_code ignored;
      std::filesystem::remove(database_, ignored);
    }
  }

  ft::FakeTwilio& twilio() { return *twilio_; }
  fo::FakeOpenAIServer& openai() { return *openai_; }
  testing::Daemon& daemon() { return *daemon_; }
  std::string url() const { return daemon_->url(); }
  const std::string& database() const { return database_; }

  // Stops the daemon (SIGTERM) and starts a new one on the same config, database and fakes.
  void restart_daemon() {
    daemon_.reset();
    start_daemon();
  }

  // `concierge --server URL book "REQUEST"`, the user's way in.
  testing::RunResult book(const std::string& request, std::chrono::seconds limit = 60s) {
    return testing::run_program(CONCIERGE_CLI_BINARY, {"--server", url(), "book", request}, limit);
  }

  // POST /calls with structured fields; returns the call id ("" and a test failure when refused).
  std::string place(const json& fields) {
    const auto r = testing::http_post(url() + "/calls", json{{"fields", fields}}.dump());
    if (r.status != 201) {
      ADD_FAILURE() << "POST /calls answered " << r.status << ": " << r.body;
      return "";
    }
    return parse(r.body).value("call_id", "");
  }

  // Whether the daemon has logged `needle` (waiting a little: its output reaches us through a pipe, possibly after
  // the HTTP answer that made the test look).
  bool logged(const std::string& needle, std::chrono::milliseconds limit = 3s) {
    return daemon_->process().wait_for_output(needle, limit);
  }

  json record(const std::string& call_id) {
    const auto r = testing::http_get(url() + "/calls/" + call_id + "/status");
    return r.status == 200 ? parse(r.body) : json();
  }

  // Polls the call until it has a result.
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

  // The call id of the only call the daemon placed (for CLI runs, which print it only in passing).
  std::string only_call_id() {
    const auto r = testing::http_get(url() + "/calls");
    const json calls = parse(r.body)["calls"];
    if (calls.size() != 1) {
      ADD_FAILURE() << "expected exactly one call, found " << calls.dump();
      return "";
    }
    return calls[0].value("call_id", "");
  }

  static std::string temp_file(const std::string& what, const std::string& suffix) {
    static int counter = 0;
    return (std::filesystem::temp_directory_path() /
            ("concierge-e2e-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + suffix))
        .string();
  }

 private:
  static RigOptions prepare(RigOptions o) {
    if (o.callee_from_script && !o.twilio.callee) {
      auto script = o.script;
      o.twilio.callee = [script](const ft::CreatedCall&) { return callee_audio_for(script); };
    }
    return o;
  }
  static fo::FakeOpenAIOptions openai_options(const RigOptions& o) {
    fo::FakeOpenAIOptions options;
    options.api_key = kApiKey;
    options.script = o.script;
    return options;
  }
  void start_daemon() {
    daemon_ = std::make_unique<testing::Daemon>(twilio_config(), env_);
    if (!daemon_->started()) {
      ADD_FAILURE() << "the daemon did not start:\n" << daemon_->output();
      return;
    }
    // Twilio (the tunnel) reaches the public listener when the daemon has one (SERVER_PUBLIC_PORT), else its port.
    twilio_->set_daemon_port(
        static_cast<std::uint16_t>(daemon_->public_port() ? daemon_->public_port() : daemon_->port()));
  }

  RigOptions options_;
  std::unique_ptr<ft::FakeTwilio> twilio_;
  std::unique_ptr<fo::FakeOpenAIServer> openai_;
  std::unique_ptr<testing::Daemon> daemon_;
  std::map<std::string, std::string> env_;
  std::string database_;
  bool owns_database_ = true;
};

inline std::vector<std::string> statuses(const json& record) {
  std::vector<std::string> out;
  if (record.contains("status_history"))
    for (const auto& h : record["status_history"]) out.push_back(h.value("status", ""));
  return out;
}

inline std::string transcript_text(const json& record) {
  std::string out;
  if (record.contains("transcript"))
    for (const auto& t : record["transcript"]) out += t.value("speaker", "") + ": " + t.value("text", "") + "\n";
  return out;
}

inline std::string failure_reason(const json& record) {
  if (!record.contains("result") || !record["result"].is_object()) return "";
  return record["result"].value("failure_reason", "");
}

inline json structured_fields(const std::string& phone_number) {
  return {{"restaurant", "Demo Restaurant"}, {"phone_number", phone_number}, {"date", tomorrow_iso()},
          {"time", "19:00"},                 {"party_size", 4},              {"customer_name", "Alex Morgan"}};
}

}  // namespace concierge::e2e
