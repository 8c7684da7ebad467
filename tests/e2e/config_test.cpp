// config/twilio.yaml as users run it: loads with a complete .env, and without credentials the daemon says exactly
// what is missing (the seed's "Common issues") and exits non-zero - never a silent fall-back to simulation.
#include "e2e.hpp"

namespace concierge::e2e {
namespace {

// A .env file the way the seed's guide has users write one (comments, blank values, quotes).
std::string write_env_file(const std::map<std::string, std::string>& values) {
  const std::string path = Rig::temp_file("env", ".env");
  std::ofstream out(path);
  out << "# OpenAI (REQUIRED)\n";
  for (const auto& [k, v] : values) out << k << "=" << v << "\n";
  return path;
}

std::map<std::string, std::string> complete_env() {
  return {{"OPENAI_API_KEY", "sk-your-openai-api-key-here"},
          {"TWILIO_ACCOUNT_SID", "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
          {"TWILIO_AUTH_TOKEN", "your_auth_token_here"},
          {"TWILIO_PHONE_NUMBER", "+15555551234"},
          {"SERVER_HOST", "0.0.0.0"},
          {"SERVER_PORT", "8080"},
          {"PUBLIC_DOMAIN", "abc123.ngrok.io"},
          {"REALTIME_VOICE", "alloy"},
          {"DEMO_RESTAURANT_NAME", "Demo Restaurant"},
          {"DEMO_RESTAURANT_PHONE", "+1234567890"},
          {"LOG_LEVEL", "INFO"}};
}

// Blanks, in the child's environment, every variable config/twilio.yaml reads that the .env leaves out, so a
// developer's own exported TWILIO_* or OPENAI_API_KEY cannot hide a "not configured" message. (The process
// environment wins over .env, as with python-dotenv, so the names the .env does set are not touched.)
std::map<std::string, std::string> isolated_environment(const std::map<std::string, std::string>& dotenv) {
  std::map<std::string, std::string> env;
  for (const char* name : {"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_PHONE_NUMBER", "PUBLIC_DOMAIN",
                           "OPENAI_API_KEY", "TWILIO_API_BASE_URL", "OPENAI_REALTIME_URL", "OPENAI_REALTIME_MODEL",
                           "REALTIME_VOICE", "CALL_DATABASE", "SERVER_HOST", "SERVER_PORT", "LOG_LEVEL",
                           "CUSTOMER_NAME", "CUSTOMER_PHONE", "DEMO_RESTAURANT_NAME", "DEMO_RESTAURANT_PHONE",
                           "TWILIO_MACHINE_DETECTION", "VOICEMAIL_POLICY", "VOICEMAIL_MESSAGE"})
    if (!dotenv.count(name)) env[name] = "";
  return env;
}

struct Run {
  int status;
  std::string output;
};

// concierge-host on config/twilio.yaml with this .env; `check_only` adds --check-config.
Run run_host(const std::map<std::string, std::string>& dotenv, bool check_only) {
  const std::string env_file = write_env_file(dotenv);
  std::vector<std::string> args{"--config", twilio_config(), "--env-file", env_file, "--port", "0", "--host",
                                "127.0.0.1"};
  if (check_only) args.push_back("--check-config");
  auto result = testing::run_program(CONCIERGE_HOST_BINARY, args, 20s, isolated_environment(dotenv));
  std::filesystem::remove(env_file);
  return {result.status, result.output};
}

TEST(E2EConfig, LoadsWithTheSeedsEnvFile) {
  const auto r = run_host(complete_env(), true);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "Loaded telephony plugin twilio")) << r.output;
  EXPECT_TRUE(contains(r.output, "Loaded voice_model plugin openai-realtime")) << r.output;
  EXPECT_TRUE(contains(r.output, "Loaded agent plugin reservation-agent")) << r.output;
  EXPECT_TRUE(contains(r.output, "Public domain: abc123.ngrok.io")) << r.output;
  EXPECT_TRUE(contains(r.output, "Config and plugins are fine.")) << r.output;
}

// The seed's .env block as its guide prints it (inline comments, the empty PUBLIC_DOMAIN "to be set after ngrok"),
// then with the ngrok host filled in.
TEST(E2EConfig, TheSeedsEnvFileAsWrittenInItsGuide) {
  const std::string seed_env =
      "# OpenAI (REQUIRED)\n"
      "OPENAI_API_KEY=sk-your-openai-api-key-here\n\n"
      "# Twilio (Required for real calls)\n"
      "TWILIO_ACCOUNT_SID=ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
      "TWILIO_AUTH_TOKEN=your_auth_token_here\n"
      "TWILIO_PHONE_NUMBER=+15555551234\n\n"
      "# Server Configuration\n"
      "SERVER_HOST=0.0.0.0\n"
      "SERVER_PORT=8080\n"
      "PUBLIC_DOMAIN=  # Will be set after ngrok setup\n\n"
      "# Voice Configuration\n"
      "REALTIME_VOICE=alloy  # Options: alloy, echo, fable, onyx, nova, shimmer\n\n"
      "# Demo Restaurant\n"
      "DEMO_RESTAURANT_NAME=Demo Restaurant\n"
      "DEMO_RESTAURANT_PHONE=+1234567890\n\n"
      "# Logging\n"
      "LOG_LEVEL=INFO\n";
  const std::string path = Rig::temp_file("seed", ".env");
  auto run = [&](const std::string& text) {
    std::ofstream(path) << text;
    return testing::run_program(CONCIERGE_HOST_BINARY,
                                {"--config", twilio_config(), "--env-file", path, "--check-config"}, 20s,
                                isolated_environment({{"OPENAI_API_KEY", ""}, {"TWILIO_ACCOUNT_SID", ""},
                                                      {"TWILIO_AUTH_TOKEN", ""}, {"TWILIO_PHONE_NUMBER", ""},
                                                      {"SERVER_HOST", ""}, {"SERVER_PORT", ""},
                                                      {"PUBLIC_DOMAIN", ""}, {"REALTIME_VOICE", ""},
                                                      {"DEMO_RESTAURANT_NAME", ""}, {"DEMO_RESTAURANT_PHONE", ""},
                                                      {"LOG_LEVEL", ""}}));
  };
  const auto before_ngrok = run(seed_env);
  EXPECT_EQ(before_ngrok.status, 3) << before_ngrok.output;
  EXPECT_TRUE(contains(before_ngrok.output, "PUBLIC_DOMAIN not configured")) << before_ngrok.output;
  std::string after = seed_env;
  after.replace(after.find("PUBLIC_DOMAIN=  # Will be set after ngrok setup"),
                std::string("PUBLIC_DOMAIN=  # Will be set after ngrok setup").size(), "PUBLIC_DOMAIN=abc123.ngrok.io");
  const auto after_ngrok = run(after);
  std::filesystem::remove(path);
  EXPECT_EQ(after_ngrok.status, 0) << after_ngrok.output;
  EXPECT_TRUE(contains(after_ngrok.output, "voice alloy")) << "the inline comment is not part of the value";
  EXPECT_TRUE(contains(after_ngrok.output, "Twilio: calls from +15555551234 via https://api.twilio.com, webhooks at "
                                           "https://abc123.ngrok.io"))
      << after_ngrok.output;
  EXPECT_TRUE(contains(after_ngrok.output, "OpenAI Realtime: wss://api.openai.com/v1/realtime model gpt-realtime"))
      << after_ngrok.output;
}

// Every variant is run both ways: --check-config and a plain start (which must stop before listening).
void expect_refused(const std::map<std::string, std::string>& dotenv, const std::string& message) {
  for (const bool check_only : {true, false}) {
    SCOPED_TRACE(check_only ? "--check-config" : "plain start");
    const auto r = run_host(dotenv, check_only);
    EXPECT_NE(r.status, 0) << r.output;
    EXPECT_TRUE(contains(r.output, message)) << "expected \"" << message << "\" in:\n" << r.output;
    EXPECT_FALSE(contains(r.output, "Listening on")) << r.output;
    EXPECT_FALSE(contains(r.output, "simulat")) << "no fall-back to a simulated line:\n" << r.output;
  }
}

TEST(E2EConfig, WithoutTwilioCredentialsTheDaemonSaysTwilioNotConfigured) {
  for (const char* missing : {"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_PHONE_NUMBER"}) {
    SCOPED_TRACE(missing);
    auto env = complete_env();
    env.erase(missing);
    expect_refused(env, "Twilio not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER");
  }
}

TEST(E2EConfig, AnEmptyPublicDomainSaysPublicDomainNotConfigured) {
  auto env = complete_env();
  env["PUBLIC_DOMAIN"] = "";  // the seed's .env ships "PUBLIC_DOMAIN=  # Will be set after ngrok setup"
  expect_refused(env, "PUBLIC_DOMAIN not configured: Twilio needs a public https host name for /twiml and "
                      "/media-stream (e.g. your ngrok domain, without https://)");
  env.erase("PUBLIC_DOMAIN");
  expect_refused(env, "PUBLIC_DOMAIN not configured");
}

TEST(E2EConfig, WithoutAnOpenAIKeyTheDaemonSaysOpenAIKeyNotConfigured) {
  auto env = complete_env();
  env.erase("OPENAI_API_KEY");
  expect_refused(env, "OPENAI_API_KEY not configured");
}

TEST(E2EConfig, TheSeedsOutdatedVoicesAreRefusedWithTheCurrentList) {
  auto env = complete_env();
  env["REALTIME_VOICE"] = "nova";
  expect_refused(env, "\"nova\" is not a Realtime API voice");
  const auto r = run_host(env, true);
  EXPECT_TRUE(contains(r.output, "alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar")) << r.output;
  env["REALTIME_VOICE"] = "marin";
  EXPECT_EQ(run_host(env, true).status, 0);
}

TEST(E2EConfig, APublicDomainPastedWithHttpsIsUsedWithAWarning) {
  auto env = complete_env();
  env["PUBLIC_DOMAIN"] = "https://abc123.ngrok.io/";  // copied straight from ngrok's "Forwarding" line
  const auto r = run_host(env, true);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "should be a bare host name")) << r.output;
  EXPECT_TRUE(contains(r.output, "Public domain: abc123.ngrok.io")) << r.output;
}

// Twilio's answering-machine detection and the voicemail policy are .env settings of config/twilio.yaml, checked at
// start-up like the rest.
TEST(E2EConfig, MachineDetectionAndTheVoicemailPolicyAreCheckedAtStartUp) {
  auto env = complete_env();
  env["TWILIO_MACHINE_DETECTION"] = "DetectMessageEnd";
  env["VOICEMAIL_POLICY"] = "leave_message";
  const auto r = run_host(env, true);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "answering-machine detection DetectMessageEnd (asynchronous)")) << r.output;
  env["TWILIO_MACHINE_DETECTION"] = "always";
  expect_refused(env, "machine_detection");
  expect_refused(env, "expected off, Enable or DetectMessageEnd, found \"always\"");
  env["TWILIO_MACHINE_DETECTION"] = "off";
  env["VOICEMAIL_POLICY"] = "shout";
  expect_refused(env, "\"shout\" is not a voicemail policy: use hang_up or leave_message");
  env["VOICEMAIL_POLICY"] = "hang_up";
  env["VOICEMAIL_MESSAGE"] = "Call {nobody} back";
  expect_refused(env, "unknown placeholder");
}

}  // namespace
}  // namespace concierge::e2e
