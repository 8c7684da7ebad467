// The CLI's parsing, wording and booking flow against a scripted daemon (no sockets; the lead's end-to-end test
// runs the real binary against the real daemon).
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app.hpp"
#include "options.hpp"
#include "render.hpp"

using namespace concierge::cli;
using nlohmann::json;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    const auto found = vars.find(std::string(name));
    if (found == vars.end()) return std::nullopt;
    return found->second;
  };
}

Options parse_ok(std::vector<std::string> args, std::map<std::string, std::string> vars = {}) {
  const auto parsed = parse_arguments(args, env_of(std::move(vars)));
  EXPECT_TRUE(parsed.options) << parsed.error;
  return parsed.options.value_or(Options{});
}

std::string parse_error(std::vector<std::string> args) {
  const auto parsed = parse_arguments(args, env_of({}));
  EXPECT_FALSE(parsed.options);
  return parsed.error;
}

// Answers each "METHOD path" from a queue; the last reply repeats. Records every request.
class ScriptedApi final : public Api {
 public:
  void on(const std::string& key, ApiReply reply) { replies_[key].push_back(std::move(reply)); }
  void on(const std::string& key, int status, const json& body) { on(key, ApiReply{{}, "", status, body.dump()}); }

  ApiReply request(const std::string& method, const std::string& path, const std::string& body,
                   bool interruptible) override {
    const std::string key = method + " " + path;
    requests.push_back(key + (body.empty() ? "" : " " + body));
    auto& queue = replies_[key];
    if (queue.empty()) return ApiReply{ApiReply::Failure::none, "", 404, R"({"error":"not scripted"})"};
    ApiReply reply = queue.front();
    if (queue.size() > 1) queue.pop_front();
    if (before_reply) before_reply(key);
    return reply;
  }

  std::vector<std::string> requests;
  std::function<void(const std::string&)> before_reply;

 private:
  std::map<std::string, std::deque<ApiReply>> replies_;
};

struct TestConsole {
  std::istringstream in;
  std::ostringstream out, err;
  int sleeps = 0;
  bool interrupted = false;
  std::chrono::steady_clock::time_point clock{};
  Console console{in, out, err};

  explicit TestConsole(std::string input = "", bool tty = false) : in(std::move(input)) {
    console.interactive_input = tty;
    console.sleep = [this](std::chrono::milliseconds ms) {
      ++sleeps;
      clock += ms;
    };
    console.interrupted = [this] { return interrupted; };
    console.now = [this] { return clock; };
  }
};

json record(const std::string& status, std::vector<std::string> history, json transcript, json result = nullptr) {
  json h = json::array();
  // The i-th change happens at 19:00:0i.
  for (size_t i = 0; i < history.size(); ++i)
    h.push_back({{"status", history[i]}, {"at", "2026-11-24T19:00:0" + std::to_string(i) + ".000Z"}});
  return {{"call_id", "c1"},
          {"status", status},
          {"callee_name", "Demo Restaurant"},
          {"phone_number", "+1234567890"},
          {"summary", "table for 4 at Demo Restaurant, Wed 25 Nov 2026 at 19:00"},
          {"details", {{"restaurant", "Demo Restaurant"}, {"date", "2026-11-25"}, {"time", "19:00"},
                       {"party_size", 4}}},
          {"status_history", h},
          {"transcript", transcript},
          {"result", result}};
}

// Transcript lines fall between the 4th status change (in-progress at 19:00:03) and the 5th (19:00:04).
json line(const std::string& speaker, const std::string& text, const std::string& at = "19:00:03.500") {
  return {{"speaker", speaker}, {"text", text}, {"at", "2026-11-24T" + at + "Z"}};
}

const json kCreated = {{"call_id", "c1"}, {"status", "queued"},
                       {"summary", "table for 4 at Demo Restaurant, Wed 25 Nov 2026 at 19:00"}};

}  // namespace

TEST(CliOptions, DefaultsToInteractiveAndLocalhost8080) {
  const Options o = parse_ok({});
  EXPECT_EQ(o.command, Command::interactive);
  EXPECT_EQ(o.server, "http://localhost:8080");
  EXPECT_FALSE(o.json);
  EXPECT_FALSE(o.timeout_seconds);
}

TEST(CliOptions, ServerFromEnvironment) {
  EXPECT_EQ(parse_ok({}, {{"SERVER_PORT", "9000"}}).server, "http://localhost:9000");
  EXPECT_EQ(parse_ok({}, {{"CONCIERGE_SERVER", "http://box:7000/"}, {"SERVER_PORT", "9000"}}).server,
            "http://box:7000");
  EXPECT_EQ(parse_ok({}, {{"CONCIERGE_SERVER", "box:7000"}}).server, "http://box:7000");
  EXPECT_EQ(parse_ok({"--server", "http://other:1/"}, {{"CONCIERGE_SERVER", "http://box:7000"}}).server,
            "http://other:1");
  EXPECT_EQ(parse_ok({"--server=127.0.0.1:8081"}).server, "http://127.0.0.1:8081");
}

TEST(CliOptions, Commands) {
  Options o = parse_ok({"book", "Book", "a", "table", "for", "4"});
  EXPECT_EQ(o.command, Command::book);
  EXPECT_EQ(o.request, "Book a table for 4");
  o = parse_ok({"--json", "book", "Book a table at Demo Restaurant", "--timeout", "30"});
  EXPECT_TRUE(o.json);
  EXPECT_EQ(o.request, "Book a table at Demo Restaurant");
  EXPECT_EQ(o.timeout_seconds, 30.0);
  o = parse_ok({"book", "for", "-3", "people?"});  // a word that starts with '-' is part of the request
  EXPECT_EQ(o.request, "for -3 people?");
  o = parse_ok({"status", "abc-123"});
  EXPECT_EQ(o.command, Command::status);
  EXPECT_EQ(o.call_id, "abc-123");
  EXPECT_EQ(parse_ok({"hangup", "abc"}).command, Command::hangup);
  EXPECT_EQ(parse_ok({"calls"}).command, Command::calls);
  EXPECT_EQ(parse_ok({"health", "--json"}).command, Command::health);
  EXPECT_EQ(parse_ok({"--help"}).command, Command::help);
  EXPECT_EQ(parse_ok({"--timeout=2.5"}).timeout_seconds, 2.5);
}

TEST(CliOptions, UsageErrors) {
  EXPECT_EQ(parse_error({"book"}),
            "book needs a request, e.g. concierge book \"Book a table at Demo Restaurant for 4 people tomorrow at 7pm\"");
  EXPECT_EQ(parse_error({"status"}), "status needs exactly one call id");
  EXPECT_EQ(parse_error({"status", "a", "b"}), "status needs exactly one call id");
  EXPECT_EQ(parse_error({"calls", "x"}), "calls takes no arguments");
  EXPECT_EQ(parse_error({"dance"}), "unknown command \"dance\" (book, status, calls, health, hangup, help)");
  EXPECT_EQ(parse_error({"--verbose"}), "unknown option --verbose");
  EXPECT_EQ(parse_error({"--server"}), "--server needs a value");
  EXPECT_EQ(parse_error({"--timeout", "soon"}), "--timeout needs a positive number of seconds, not \"soon\"");
  EXPECT_EQ(parse_error({"--timeout", "-1"}), "--timeout needs a positive number of seconds, not \"-1\"");
}

TEST(CliOptions, TheTokenComesFromTheFlagTheEnvironmentOrALocalDaemonsFile) {
  const auto folder = std::filesystem::temp_directory_path() / ("cli-token-" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder / "concierge");
  std::ofstream(folder / "concierge" / "api-token-8123") << "from-the-file-0123456789\n";
  const std::map<std::string, std::string> runtime{{"XDG_RUNTIME_DIR", folder.string()}};

  Options o = parse_ok({"--server", "http://127.0.0.1:8123", "calls"}, runtime);
  EXPECT_EQ(o.token, "from-the-file-0123456789");
  EXPECT_EQ(o.token_source, (folder / "concierge" / "api-token-8123").string());
  EXPECT_EQ(parse_ok({"--server", "localhost:8123"}, runtime).token, "from-the-file-0123456789");
  // The environment (or .env) wins over the file, --token over both.
  auto with_env = runtime;
  with_env["CONCIERGE_API_TOKEN"] = "from-the-environment";
  o = parse_ok({"--server", "http://127.0.0.1:8123"}, with_env);
  EXPECT_EQ(o.token, "from-the-environment");
  EXPECT_EQ(o.token_source, "CONCIERGE_API_TOKEN");
  o = parse_ok({"--token", "from-the-flag", "--server", "http://127.0.0.1:8123"}, with_env);
  EXPECT_EQ(o.token, "from-the-flag");
  EXPECT_EQ(o.token_source, "--token");
  EXPECT_EQ(parse_ok({"--token=x-y"}).token, "x-y");
  // Another port's daemon has its own file (none here); another host never gets a local token.
  EXPECT_EQ(parse_ok({"--server", "http://127.0.0.1:8124"}, runtime).token, "");
  EXPECT_EQ(parse_ok({"--server", "http://box.example:8123"}, runtime).token, "");
  EXPECT_EQ(token_file_for("http://box.example:8123", env_of(runtime)), std::nullopt);
  EXPECT_EQ(token_file_for("http://[::1]:8123/", env_of(runtime)), (folder / "concierge" / "api-token-8123").string());
  EXPECT_EQ(token_file_for("http://localhost", env_of({{"HOME", "/home/u"}})), "/home/u/.local/state/concierge/api-token-80");
  EXPECT_EQ(token_file_for("http://localhost:1", env_of({{"CONCIERGE_API_TOKEN_FILE", "/x/t"}})), "/x/t");
  EXPECT_EQ(parse_error({"--token"}), "--token needs a value");
  std::filesystem::remove_all(folder);
}

TEST(CliCommands, A401SaysWhereTheTokenWasLookedFor) {
  ScriptedApi api;
  api.on("GET /calls?limit=500", 401, {{"error", "the API token is not valid"}});
  TestConsole t;
  EXPECT_EQ(run(parse_ok({"calls"}, {{"XDG_RUNTIME_DIR", "/nonexistent"}}), api, t.console), kExitUsage);
  EXPECT_EQ(t.err.str(),
            "The concierge daemon at http://localhost:8080 needs its API token and none was found: pass --token or "
            "set CONCIERGE_API_TOKEN (no token in /nonexistent/concierge/api-token-8080).\n");
  api.on("POST /calls", 401, {{"error", "the API token is not valid"}});
  TestConsole t3;
  EXPECT_EQ(run(parse_ok({"--token", "abc", "book", "x"}), api, t3.console), kExitUsage);
  EXPECT_EQ(t3.err.str(),
            "The concierge daemon at http://localhost:8080 refused the API token from --token: the API token is not "
            "valid\n");
}

TEST(CliOptions, DotenvValue) {
  const std::string text =
      "# comment\nSERVER_PORT=9001\nexport CONCIERGE_SERVER=\"http://x:1\"\nPUBLIC_DOMAIN=  # later\nA=b #c\n";
  EXPECT_EQ(dotenv_value(text, "SERVER_PORT"), "9001");
  EXPECT_EQ(dotenv_value(text, "CONCIERGE_SERVER"), "http://x:1");
  EXPECT_EQ(dotenv_value(text, "PUBLIC_DOMAIN"), "");
  EXPECT_EQ(dotenv_value(text, "A"), "b");
  EXPECT_EQ(dotenv_value(text, "MISSING"), std::nullopt);
}

TEST(CliRender, StatusLines) {
  const json r = record("dialing", {}, json::array());
  EXPECT_EQ(status_line("dialing", r), "Dialing Demo Restaurant (+1234567890)...");
  EXPECT_EQ(status_line("ringing", r), "Ringing...");
  EXPECT_EQ(status_line("in-progress", r), "Connected.");
  EXPECT_EQ(status_line("no-answer", r), "No answer.");
  EXPECT_EQ(status_line("dialing", json{{"phone_number", "+1555"}}), "Dialing +1555...");
  EXPECT_EQ(status_line("something-new", r), "Status: something-new");
}

TEST(CliRender, TranscriptLines) {
  EXPECT_EQ(transcript_line(line("callee", "Good evening, Demo Restaurant.")),
            "  Restaurant: Good evening, Demo Restaurant.");
  EXPECT_EQ(transcript_line(line("agent", "Hi, a table for four?")), "  Agent: Hi, a table for four?");
  EXPECT_EQ(transcript_line(line("system", "call connected")), "  [call connected]");
}

TEST(CliRender, ResultBlockSuccessUsesTheAgreedDetails) {
  const json r = record("completed", {}, json::array(),
                        {{"success", true}, {"confirmation_number", "DR-4821"}, {"failure_reason", ""},
                         {"details", {{"time", "19:30"}}}});
  EXPECT_TRUE(booking_succeeded(r));
  EXPECT_EQ(result_block(r),
            "Reservation confirmed!\n"
            "  Restaurant:   Demo Restaurant\n"
            "  Date:         2026-11-25\n"
            "  Time:         19:30\n"
            "  Party size:   4\n"
            "  Confirmation: DR-4821\n");
}

TEST(CliRender, ResultBlockFailure) {
  const json failed = record("completed", {}, json::array(),
                             {{"success", false}, {"confirmation_number", ""},
                              {"failure_reason", "fully booked at 19:00 and no alternative accepted"}});
  EXPECT_FALSE(booking_succeeded(failed));
  EXPECT_EQ(result_block(failed), "Booking failed: fully booked at 19:00 and no alternative accepted\n");
  json no_answer = record("no-answer", {}, json::array());
  EXPECT_EQ(result_block(no_answer), "Booking failed: the call ended (no-answer)\n");
  no_answer["status_reason"] = "nobody picked up within 30 s";
  EXPECT_EQ(result_block(no_answer), "Booking failed: nobody picked up within 30 s\n");
}

// The daemon's outcome word (result.outcome, the SDK's vocabulary) is said in words under the reason; an older
// daemon's record with the word only in details is read too, and a word newer than the CLI is shown as it is.
TEST(CliRender, ResultBlockSaysTheOutcomeInWords) {
  json left = record("completed", {}, json::array(),
                     {{"success", false}, {"confirmation_number", ""}, {"outcome", "voicemail_left"},
                      {"failure_reason", "Voicemail answered at Demo Restaurant; a message was left: \"Hi\""}});
  EXPECT_EQ(result_block(left),
            "Booking failed: Voicemail answered at Demo Restaurant; a message was left: \"Hi\"\n"
            "  Outcome: voicemail answered, a message was left after the beep\n");
  EXPECT_NE(record_text(left).find("  Outcome: voicemail answered, a message was left after the beep\n"),
            std::string::npos);
  json menu = record("completed", {}, json::array(),
                     {{"success", false}, {"failure_reason", "An automated phone menu answered"},
                      {"details", {{"outcome", "menu_dead_end"}}}});
  EXPECT_EQ(result_block(menu), "Booking failed: An automated phone menu answered\n"
                                "  Outcome: a phone menu answered and none of its options reached a person\n");
  menu["result"]["details"]["outcome"] = "voicemail";
  EXPECT_EQ(result_block(menu), "Booking failed: An automated phone menu answered\n"
                                "  Outcome: voicemail answered, no message left\n");
  menu["result"]["outcome"] = "fax_machine";
  EXPECT_EQ(result_block(menu), "Booking failed: An automated phone menu answered\n  Outcome: fax_machine\n");
  menu["result"]["outcome"] = "not_completed";
  EXPECT_EQ(result_block(menu), "Booking failed: An automated phone menu answered\n");
  EXPECT_EQ(outcome_words("no_answer"), "nobody answered");
  EXPECT_EQ(outcome_words("unavailable"), "not available");
}

TEST(CliRender, ProgressTrackerShowsOnlyWhatIsNewAndNoStatusIsLost) {
  ProgressTracker tracker;
  EXPECT_EQ(tracker.update(record("queued", {"queued"}, json::array())), std::vector<std::string>{});
  // Two changes between polls: both shown, in order.
  EXPECT_EQ(tracker.update(record("ringing", {"queued", "dialing", "ringing"}, json::array())),
            (std::vector<std::string>{"Dialing Demo Restaurant (+1234567890)...", "Ringing..."}));
  EXPECT_EQ(tracker.update(record("ringing", {"queued", "dialing", "ringing"}, json::array())),
            std::vector<std::string>{});
  const json transcript = json::array({line("callee", "Demo Restaurant, how can I help?")});
  EXPECT_EQ(tracker.update(record("in-progress", {"queued", "dialing", "ringing", "in-progress"}, transcript)),
            (std::vector<std::string>{"Connected.", "  Restaurant: Demo Restaurant, how can I help?"}));
  json more = transcript;
  more.push_back(line("agent", "Hello! I'd like a table for 4."));
  EXPECT_EQ(tracker.update(record("in-progress", {"queued", "dialing", "ringing", "in-progress"}, more)),
            std::vector<std::string>{"  Agent: Hello! I'd like a table for 4."});
}

TEST(CliRender, CallsTable) {
  EXPECT_EQ(calls_table(json{{"calls", json::array()}}), "No calls yet.\n");
  const std::string table = calls_table(json{{"calls", json::array({record("completed", {}, nullptr)})}});
  EXPECT_NE(table.find("CALL ID"), std::string::npos);
  EXPECT_NE(table.find("c1"), std::string::npos);
  EXPECT_NE(table.find("table for 4 at Demo Restaurant"), std::string::npos);
}

TEST(CliRender, CombineAnswer) {
  EXPECT_EQ(combine_answer("Book Demo Restaurant at 7pm", "What name should the reservation be under?", "Alex Morgan"),
            "Book Demo Restaurant at 7pm. under the name Alex Morgan");
  EXPECT_EQ(combine_answer("Book it.", "What name should the reservation be under?", "my name is Alex"),
            "Book it. my name is Alex");
  EXPECT_EQ(combine_answer("Book it", "How many people is the reservation for?", "four"), "Book it. for four people");
  EXPECT_EQ(combine_answer("Book it", "How many people is the reservation for?", "4 of us"), "Book it. 4 of us");
  EXPECT_EQ(combine_answer("Book it", "Which date should I book?", "Friday"), "Book it. Friday");
  // Two questions at once: no guessing which one a bare answer is for.
  EXPECT_EQ(combine_answer("Book it", "What time should I book? What name should the reservation be under?",
                           "7pm, Alex"),
            "Book it. 7pm, Alex");
  EXPECT_EQ(combine_answer("", "What would you like me to book?", "a table"), "a table");
}

TEST(CliRender, ErrorText) {
  EXPECT_EQ(error_text(R"({"error":"at capacity"})"), "at capacity");
  EXPECT_EQ(error_text("plain words\n"), "plain words");
  EXPECT_EQ(error_text(""), "(no details)");
}

TEST(CliBook, FollowsTheCallToAConfirmedBooking) {
  ScriptedApi api;
  api.on("POST /calls", 201, kCreated);
  const json done = {{"success", true}, {"confirmation_number", "DR-4821"}, {"failure_reason", ""},
                     {"details", json::object()}};
  api.on("GET /calls/c1/status", 200, record("dialing", {"queued", "dialing"}, json::array()));
  api.on("GET /calls/c1/status", 200, record("in-progress", {"queued", "dialing", "ringing", "in-progress"},
                                             json::array({line("callee", "Demo Restaurant.")})));
  api.on("GET /calls/c1/status", 200,
         record("completed", {"queued", "dialing", "ringing", "in-progress", "completed"},
                json::array({line("callee", "Demo Restaurant."), line("agent", "A table for 4, please.", "19:00:03.900")}),
                done));
  TestConsole t;
  Options options = parse_ok({"book", "Book a table at Demo Restaurant for 4 people tomorrow at 7pm"});
  EXPECT_EQ(run(options, api, t.console), kExitOk);
  EXPECT_EQ(t.out.str(),
            "Booking: table for 4 at Demo Restaurant, Wed 25 Nov 2026 at 19:00\n"
            "Call c1 queued.\n"
            "Dialing Demo Restaurant (+1234567890)...\n"
            "Ringing...\n"
            "Connected.\n"
            "  Restaurant: Demo Restaurant.\n"
            "  Agent: A table for 4, please.\n"
            "Call ended.\n"
            "\n"
            "Reservation confirmed!\n"
            "  Restaurant:   Demo Restaurant\n"
            "  Date:         2026-11-25\n"
            "  Time:         19:00\n"
            "  Party size:   4\n"
            "  Confirmation: DR-4821\n");
  EXPECT_EQ(t.err.str(), "");
  EXPECT_EQ(api.requests.front(),
            R"(POST /calls {"request":"Book a table at Demo Restaurant for 4 people tomorrow at 7pm"})");
  EXPECT_EQ(t.sleeps, 2);  // polled three times, 250 ms apart
}

TEST(CliBook, FailedBookingExitsOne) {
  ScriptedApi api;
  api.on("POST /calls", 201, kCreated);
  api.on("GET /calls/c1/status", 200,
         record("completed", {"queued", "dialing", "completed"}, json::array(),
                {{"success", false}, {"confirmation_number", ""}, {"failure_reason", "fully booked"}}));
  TestConsole t;
  EXPECT_EQ(run(parse_ok({"book", "x"}), api, t.console), kExitFailed);
  EXPECT_NE(t.out.str().find("\nBooking failed: fully booked\n"), std::string::npos) << t.out.str();
}

TEST(CliBook, AQuestionIsAskedAndTheAnswerResent) {
  ScriptedApi api;
  const json question = {{"error", "How many people is the reservation for?"},
                         {"question", "How many people is the reservation for?"}};
  api.on("POST /calls", 422, question);
  api.on("POST /calls", 201, kCreated);
  api.on("GET /calls/c1/status", 200,
         record("completed", {"completed"}, json::array(),
                {{"success", true}, {"confirmation_number", "A1"}, {"failure_reason", ""}}));
  TestConsole t("4\n", /*tty=*/true);
  EXPECT_EQ(run(parse_ok({"book", "Book a table at Demo Restaurant tomorrow at 7pm"}), api, t.console), kExitOk);
  EXPECT_NE(t.out.str().find("Concierge: How many people is the reservation for?\nYour answer: "), std::string::npos)
      << t.out.str();
  ASSERT_GE(api.requests.size(), 2u);
  // At a terminal every request is a dry run until the plan is read back and confirmed.
  EXPECT_EQ(api.requests[1],
            R"(POST /calls {"dry_run":true,"request":"Book a table at Demo Restaurant tomorrow at 7pm. for 4 people"})");
}

const json kDryRunPlan = {{"dry_run", true},
                          {"ready", true},
                          {"phone_number", "+1234567890"},
                          {"summary", "table for 4 at Demo Restaurant, Wed 25 Nov 2026 at 19:00"},
                          {"reading", {{"in_words", "Wednesday 25 November at 7 PM, 4 people, Demo Restaurant"}}}};

TEST(CliBook, ThePlanIsReadBackAndTheCallPlacedOnlyAfterYes) {
  ScriptedApi api;
  api.on("POST /calls", 200, kDryRunPlan);
  api.on("POST /calls", 201, kCreated);
  api.on("GET /calls/c1/status", 200,
         record("completed", {"completed"}, json::array(),
                {{"success", true}, {"confirmation_number", "A1"}, {"failure_reason", ""}}));
  TestConsole t("y\n", /*tty=*/true);
  EXPECT_EQ(run(parse_ok({"book", "demo tmrw 7pm 4 ppl"}), api, t.console), kExitOk);
  EXPECT_NE(t.out.str().find("Plan: Wednesday 25 November at 7 PM, 4 people, Demo Restaurant (+1234567890)\n"
                             "Call now? [y = call, n = cancel, or type a change]: "),
            std::string::npos)
      << t.out.str();
  ASSERT_GE(api.requests.size(), 2u);
  EXPECT_EQ(api.requests[0], R"(POST /calls {"dry_run":true,"request":"demo tmrw 7pm 4 ppl"})");
  EXPECT_EQ(api.requests[1], R"(POST /calls {"request":"demo tmrw 7pm 4 ppl"})");
}

TEST(CliBook, NoToTheReadBackPlacesNoCall) {
  ScriptedApi api;
  api.on("POST /calls", 200, kDryRunPlan);
  TestConsole t("n\n", /*tty=*/true);
  EXPECT_EQ(run(parse_ok({"book", "demo tmrw 7pm 4 ppl"}), api, t.console), kExitFailed);
  EXPECT_NE(t.out.str().find("Nothing booked."), std::string::npos) << t.out.str();
  EXPECT_EQ(api.requests.size(), 1u);
}

TEST(CliBook, AChangeAtTheReadBackIsSentAsACorrectionAndReadBackAgain) {
  ScriptedApi api;
  api.on("POST /calls", 200, kDryRunPlan);
  api.on("POST /calls", 200, kDryRunPlan);
  TestConsole t("8pm\nn\n", /*tty=*/true);
  EXPECT_EQ(run(parse_ok({"book", "demo tmrw 7pm 4 ppl"}), api, t.console), kExitFailed);
  ASSERT_EQ(api.requests.size(), 2u);
  EXPECT_EQ(api.requests[1], R"(POST /calls {"dry_run":true,"request":"demo tmrw 7pm 4 ppl. I mean 8pm"})");
}

TEST(CliBook, TheUsersTimeZoneGoesWithTheBooking) {
  ScriptedApi api;
  api.on("POST /calls", 422, {{"error", "Which restaurant?"}, {"question", "Which restaurant?"}});
  TestConsole t("", /*tty=*/false);
  Options options = parse_ok({"book", "a table"});
  options.time_zone = "Europe/Paris";
  EXPECT_EQ(run(options, api, t.console), kExitFailed);
  EXPECT_EQ(api.requests.front(), R"(POST /calls {"fields":{"time_zone":"Europe/Paris"},"request":"a table"})");
  const EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "TZ") return std::string("America/New_York");
    return std::nullopt;
  };
  EXPECT_EQ(local_time_zone_name(env), "America/New_York");
}

TEST(CliBook, YesSkipsTheReadBackForScripts) {
  ScriptedApi api;
  api.on("POST /calls", 201, kCreated);
  api.on("GET /calls/c1/status", 200,
         record("completed", {"completed"}, json::array(),
                {{"success", true}, {"confirmation_number", "A1"}, {"failure_reason", ""}}));
  TestConsole t("", /*tty=*/true);
  EXPECT_EQ(run(parse_ok({"--yes", "book", "demo tmrw 7pm 4 ppl"}), api, t.console), kExitOk);
  EXPECT_EQ(api.requests.front(), R"(POST /calls {"request":"demo tmrw 7pm 4 ppl"})");
}

TEST(CliBook, AnAnswerToADoubtIsSentAsACorrection) {
  EXPECT_EQ(combine_answer("Demo at 7 or 8", "\"7\": two times were given. What time should I book?", "8pm", true),
            "Demo at 7 or 8. I mean 8pm");
  EXPECT_EQ(combine_answer("Dragon at 7", "Did you mean The Golden Dragon? (you wrote \"Dragon\")", "yes", true),
            "Dragon at 7. I mean The Golden Dragon");
}

TEST(CliBook, AnsweringQuitOrNothingCancelsTheBooking) {
  for (const char* input : {"quit\n", "\n", "cancel\n", ""}) {
    ScriptedApi api;
    api.on("POST /calls", 422, {{"error", "Which restaurant?"}, {"question", "Which restaurant?"}});
    TestConsole t(input, /*tty=*/true);
    EXPECT_EQ(run(parse_ok({"book", "a table"}), api, t.console), kExitFailed) << input;
    EXPECT_EQ(api.requests.size(), 1u) << input;
  }
}

TEST(CliBook, AQuestionWithoutATerminalIsAFailure) {
  ScriptedApi api;
  api.on("POST /calls", 422, {{"error", "Which restaurant?"}, {"question", "Which restaurant?"}});
  TestConsole t("", /*tty=*/false);
  EXPECT_EQ(run(parse_ok({"book", "a table"}), api, t.console), kExitFailed);
  EXPECT_EQ(t.err.str(), "The concierge needs more details: Which restaurant?\n");
  EXPECT_EQ(api.requests.size(), 1u);
}

TEST(CliBook, DaemonNotRunningIsOneClearLine) {
  ScriptedApi api;
  api.on("POST /calls", ApiReply{ApiReply::Failure::unreachable, "Connection refused", 0, ""});
  TestConsole t;
  EXPECT_EQ(run(parse_ok({"book", "x"}), api, t.console), kExitUsage);
  EXPECT_EQ(t.err.str(),
            "Cannot reach the concierge daemon at http://localhost:8080 \xE2\x80\x94 start it with: concierge-host "
            "[--config FILE]\n");
  EXPECT_EQ(t.out.str(), "");
}

TEST(CliBook, AtCapacity) {
  ScriptedApi api;
  api.on("POST /calls", 503, {{"error", "1000 calls are running; try again later"}});
  TestConsole t;
  EXPECT_EQ(run(parse_ok({"book", "x"}), api, t.console), kExitFailed);
  EXPECT_EQ(t.err.str(), "The concierge daemon is at capacity: 1000 calls are running; try again later\n");
}

TEST(CliBook, CtrlCHangsUpAndExits130) {
  ScriptedApi api;
  api.on("POST /calls", 201, kCreated);
  api.on("GET /calls/c1/status", 200, record("ringing", {"queued", "dialing", "ringing"}, json::array()));
  api.on("POST /calls/c1/hangup", 200, {{"call_id", "c1"}, {"status", "canceled"}});
  TestConsole t;
  api.before_reply = [&](const std::string& key) {
    if (key == "GET /calls/c1/status") t.interrupted = true;  // Ctrl-C during the first poll
  };
  EXPECT_EQ(run(parse_ok({"book", "x"}), api, t.console), kExitInterrupted);
  EXPECT_EQ(api.requests.back(), "POST /calls/c1/hangup");
  EXPECT_NE(t.out.str().find("Interrupted: hanging up call c1...\nHung up call c1.\n"), std::string::npos)
      << t.out.str();
}

TEST(CliBook, TimeoutStopsWaitingAndSaysHowToFollowTheCall) {
  ScriptedApi api;
  api.on("POST /calls", 201, kCreated);
  api.on("GET /calls/c1/status", 200, record("ringing", {"queued", "dialing", "ringing"}, json::array()));
  TestConsole t;
  EXPECT_EQ(run(parse_ok({"book", "x", "--timeout", "1"}), api, t.console), kExitFailed);
  EXPECT_EQ(t.err.str(),
            "Stopped waiting after 1 s; call c1 goes on. Follow it with: concierge status c1 (or end it: concierge "
            "hangup c1)\n");
  EXPECT_EQ(t.sleeps, 4);  // 4 x 250 ms
}

TEST(CliBook, JsonModePrintsOnlyTheFinalRecord) {
  ScriptedApi api;
  api.on("POST /calls", 201, kCreated);
  const json final_record = record("completed", {"queued", "completed"}, json::array(),
                                   {{"success", true}, {"confirmation_number", "A1"}, {"failure_reason", ""}});
  api.on("GET /calls/c1/status", 200, final_record);
  TestConsole t;
  EXPECT_EQ(run(parse_ok({"--json", "book", "x"}), api, t.console), kExitOk);
  EXPECT_EQ(json::parse(t.out.str()), final_record);
}

TEST(CliCommands, StatusHealthCallsHangup) {
  ScriptedApi api;
  api.on("GET /health", 200, {{"status", "healthy"}, {"service", "ai-concierge-voice"}});
  api.on("GET /calls?limit=500", 200, {{"calls", json::array()}, {"next_cursor", nullptr}});
  api.on("GET /calls/c1/status", 200,
         record("completed", {"queued", "completed"}, json::array({line("agent", "Hi")}),
                {{"success", true}, {"confirmation_number", "A1"}, {"failure_reason", ""}}));
  {
    TestConsole t;
    EXPECT_EQ(run(parse_ok({"health"}), api, t.console), kExitOk);
    EXPECT_EQ(t.out.str(), "The concierge daemon at http://localhost:8080 is healthy (ai-concierge-voice).\n");
  }
  {
    TestConsole t;
    EXPECT_EQ(run(parse_ok({"calls"}), api, t.console), kExitOk);
    EXPECT_EQ(t.out.str(), "No calls yet.\n");
  }
  {
    TestConsole t;
    EXPECT_EQ(run(parse_ok({"status", "c1"}), api, t.console), kExitOk);
    EXPECT_NE(t.out.str().find("Call c1: completed\n"), std::string::npos) << t.out.str();
    EXPECT_NE(t.out.str().find("  Agent: Hi\n"), std::string::npos);
    EXPECT_NE(t.out.str().find("Confirmation: A1"), std::string::npos);
  }
  {
    TestConsole t;
    EXPECT_EQ(run(parse_ok({"status", "nope"}), api, t.console), kExitFailed);
    EXPECT_EQ(t.err.str(), "No call nope at http://localhost:8080.\n");
  }
  {
    TestConsole t;
    EXPECT_EQ(run(parse_ok({"hangup", "nope"}), api, t.console), kExitFailed);
  }
}

TEST(CliCommands, CallsFollowsTheCursorThroughEveryPage) {
  ScriptedApi api;
  auto call = [](const std::string& id) {
    json r = record("completed", {}, nullptr);
    r["call_id"] = id;
    return r;
  };
  api.on("GET /calls?limit=500", 200, {{"calls", {call("c3"), call("c2")}}, {"active", 0}, {"next_cursor", "7"}});
  api.on("GET /calls?limit=500&cursor=7", 200, {{"calls", {call("c1")}}, {"active", 0}, {"next_cursor", nullptr}});
  TestConsole t;
  EXPECT_EQ(run(parse_ok({"calls", "--json"}), api, t.console), kExitOk);
  const json all = json::parse(t.out.str());
  ASSERT_EQ(all["calls"].size(), 3u) << t.out.str();
  EXPECT_EQ(all["calls"][0]["call_id"], "c3");
  EXPECT_EQ(all["calls"][2]["call_id"], "c1");
  EXPECT_FALSE(all.contains("next_cursor"));
  EXPECT_EQ(api.requests, (std::vector<std::string>{"GET /calls?limit=500", "GET /calls?limit=500&cursor=7"}));
}

TEST(CliInteractive, LoopsUntilQuit) {
  ScriptedApi api;
  api.on("GET /health", 200, {{"status", "healthy"}, {"service", "ai-concierge-voice"}});
  api.on("POST /calls", 200, kDryRunPlan);  // the plan is read back first; "y" places the call
  api.on("POST /calls", 201, kCreated);
  api.on("GET /calls/c1/status", 200,
         record("completed", {"completed"}, json::array(),
                {{"success", true}, {"confirmation_number", "A1"}, {"failure_reason", ""}}));
  TestConsole t("\nBook a table at Demo Restaurant for 2 tonight\ny\nquit\n", true);
  EXPECT_EQ(run(parse_ok({}), api, t.console), kExitOk);
  const std::string out = t.out.str();
  EXPECT_NE(out.find("Your request: "), std::string::npos);
  EXPECT_NE(out.find("Plan: Wednesday 25 November at 7 PM"), std::string::npos) << out;
  EXPECT_NE(out.find("Reservation confirmed!"), std::string::npos);
  EXPECT_NE(out.find("Goodbye."), std::string::npos);
  EXPECT_EQ(std::count(api.requests.begin(), api.requests.end(),
                       R"(POST /calls {"request":"Book a table at Demo Restaurant for 2 tonight"})"),
            1);
}

TEST(CliInteractive, EndOfInputExitsCleanlyAndAnUnreachableDaemonIsReportedFirst) {
  ScriptedApi up;
  up.on("GET /health", 200, {{"status", "healthy"}});
  TestConsole t("");
  EXPECT_EQ(run(parse_ok({}), up, t.console), kExitOk);

  ScriptedApi down;
  down.on("GET /health", ApiReply{ApiReply::Failure::unreachable, "refused", 0, ""});
  TestConsole t2("Book a table\n");
  EXPECT_EQ(run(parse_ok({}), down, t2.console), kExitUsage);
  EXPECT_EQ(t2.out.str(), "");
  EXPECT_NE(t2.err.str().find("Cannot reach the concierge daemon"), std::string::npos);
}
