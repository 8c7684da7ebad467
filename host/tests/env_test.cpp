// .env parsing (python-dotenv's rules, one documented difference) and ${VAR} interpolation.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "concierge/config.hpp"
#include "config_error.hpp"
#include "env.hpp"

using concierge::ConfigError;
using concierge::host::Environment;

namespace {

Environment from_dotenv(std::string_view text) {
  Environment env;
  env.load_dotenv_text(text, "test.env");
  return env;
}

std::string value_of(const Environment& env, std::string_view name) {
  const auto value = env.get(name);
  return value ? *value : std::string("<unset>");
}

using concierge::testing::config_error_of;  // the ConfigError's text, or "" when none was thrown

}  // namespace

TEST(Dotenv, PlainValuesCommentsAndBlankLines) {
  const auto env = from_dotenv(
      "# OpenAI (REQUIRED)\n"
      "OPENAI_API_KEY=sk-abc\n"
      "\n"
      "   # indented comment\n"
      "SERVER_PORT=8080\n"
      "  SPACED  =  value with spaces  \n");
  EXPECT_EQ(value_of(env, "OPENAI_API_KEY"), "sk-abc");
  EXPECT_EQ(value_of(env, "SERVER_PORT"), "8080");
  EXPECT_EQ(value_of(env, "SPACED"), "value with spaces");
  EXPECT_EQ(value_of(env, "MISSING"), "<unset>");
}

TEST(Dotenv, TheSeedsExampleFile) {
  // The seed's .env, verbatim in its tricky lines.
  const auto env = from_dotenv(
      "TWILIO_PHONE_NUMBER=+15555551234\n"
      "SERVER_HOST=0.0.0.0\n"
      "PUBLIC_DOMAIN=  # Will be set after ngrok setup\n"
      "REALTIME_VOICE=alloy  # Options: alloy, echo, fable, onyx, nova, shimmer\n"
      "DEMO_RESTAURANT_NAME=Demo Restaurant\n");
  EXPECT_EQ(value_of(env, "TWILIO_PHONE_NUMBER"), "+15555551234");
  EXPECT_EQ(value_of(env, "PUBLIC_DOMAIN"), "");  // python-dotenv would read the comment as the value
  EXPECT_EQ(value_of(env, "REALTIME_VOICE"), "alloy");
  EXPECT_EQ(value_of(env, "DEMO_RESTAURANT_NAME"), "Demo Restaurant");
}

TEST(Dotenv, HashInsideAValueIsKept) {
  const auto env = from_dotenv("A=pa#ss\nB=#leading\nC=x #comment\n");
  EXPECT_EQ(value_of(env, "A"), "pa#ss");
  EXPECT_EQ(value_of(env, "B"), "#leading");
  EXPECT_EQ(value_of(env, "C"), "x");
}

TEST(Dotenv, ExportPrefix) {
  const auto env = from_dotenv("export TOKEN=abc\nexport\tOTHER=def\n");
  EXPECT_EQ(value_of(env, "TOKEN"), "abc");
  EXPECT_EQ(value_of(env, "OTHER"), "def");
}

TEST(Dotenv, SingleQuotesAreLiteral) {
  const auto env = from_dotenv("A='  spaced # not a comment ${X} \\n'\nB='it\\'s'\n");
  EXPECT_EQ(value_of(env, "A"), "  spaced # not a comment ${X} \\n");
  EXPECT_EQ(value_of(env, "B"), "it's");
}

TEST(Dotenv, DoubleQuotesDecodeEscapes) {
  const auto env = from_dotenv("A=\"line1\\nline2\\t\\\"q\\\" \\\\ end\"  # trailing comment\n");
  EXPECT_EQ(value_of(env, "A"), "line1\nline2\t\"q\" \\ end");
}

TEST(Dotenv, QuotedValuesMaySpanLines) {
  const auto env = from_dotenv("KEY=\"first\nsecond\"\nNEXT=3\n");
  EXPECT_EQ(value_of(env, "KEY"), "first\nsecond");
  EXPECT_EQ(value_of(env, "NEXT"), "3");
}

TEST(Dotenv, EmptyValuesAreSetButEmpty) {
  const auto env = from_dotenv("A=\nB=''\nC=\"\"\n");
  EXPECT_EQ(value_of(env, "A"), "");
  EXPECT_EQ(value_of(env, "B"), "");
  EXPECT_EQ(value_of(env, "C"), "");
}

TEST(Dotenv, KeyWithoutEqualsSetsNothing) {
  const auto env = from_dotenv("JUST_A_NAME\nA=1\n");
  EXPECT_EQ(value_of(env, "JUST_A_NAME"), "<unset>");
  EXPECT_EQ(value_of(env, "A"), "1");
}

TEST(Dotenv, CrLfLineEndings) {
  const auto env = from_dotenv("A=1\r\nB=two words\r\n");
  EXPECT_EQ(value_of(env, "A"), "1");
  EXPECT_EQ(value_of(env, "B"), "two words");
}

TEST(Dotenv, ProcessEnvironmentWins) {
  Environment env;
  env.set("LOG_LEVEL", "DEBUG");
  env.load_dotenv_text("LOG_LEVEL=INFO\nSERVER_PORT=9000\n", "test.env");
  EXPECT_EQ(value_of(env, "LOG_LEVEL"), "DEBUG");
  EXPECT_EQ(value_of(env, "SERVER_PORT"), "9000");
}

TEST(Dotenv, LaterLineOfTheSameFileWinsButNotOverAnEarlierFile) {
  Environment env;
  env.load_dotenv_text("A=first\nA=second\n", "one.env");
  EXPECT_EQ(value_of(env, "A"), "second");
  env.load_dotenv_text("A=third\n", "two.env");
  EXPECT_EQ(value_of(env, "A"), "second");
}

TEST(Dotenv, ExpandsReferencesLikePythonDotenv) {
  Environment env;
  env.set("HOME_DIR", "/home/alex");
  env.load_dotenv_text(
      "BASE=${HOME_DIR}/concierge\n"
      "DB=\"${BASE}/calls.db\"\n"
      "LITERAL='${BASE}'\n"
      "FALLBACK=${NOT_SET:-fallback}\n"
      "DOLLAR=cost $5\n",
      "test.env");
  EXPECT_EQ(value_of(env, "BASE"), "/home/alex/concierge");
  EXPECT_EQ(value_of(env, "DB"), "/home/alex/concierge/calls.db");
  EXPECT_EQ(value_of(env, "LITERAL"), "${BASE}");
  EXPECT_EQ(value_of(env, "FALLBACK"), "fallback");
  EXPECT_EQ(value_of(env, "DOLLAR"), "cost $5");
}

TEST(Dotenv, SyntaxErrorsNameFileAndLine) {
  EXPECT_EQ(config_error_of([] { from_dotenv("A=1\nMY KEY=2\n"); }),
            "test.env (line 2): expected '=' after MY");
  EXPECT_EQ(config_error_of([] { from_dotenv("A=1\n\nB=\"never closed\nC=3\n"); }),
            "test.env (line 3): unterminated double-quoted value");
  EXPECT_EQ(config_error_of([] { from_dotenv("A='x' y\n"); }), "test.env (line 1): unexpected text after the closing quote");
  EXPECT_EQ(config_error_of([] { from_dotenv("1ABC=x\n"); }),
            "test.env (line 1): \"1ABC\" is not a valid variable name (letters, digits and _ only)");
  EXPECT_EQ(config_error_of([] { from_dotenv("=x\n"); }),
            "test.env (line 1): \"\" is not a valid variable name (letters, digits and _ only)");
}

TEST(Dotenv, FileLoadingAndMissingFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("concierge-env-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / ".env") << "FROM_FILE=yes\n";
  }
  Environment env;
  env.load_dotenv_file(dir / ".env");
  EXPECT_EQ(value_of(env, "FROM_FILE"), "yes");
  ASSERT_EQ(env.loaded_files().size(), 1u);
  EXPECT_EQ(env.loaded_files()[0], dir / ".env");
  const std::string error = config_error_of([&] { env.load_dotenv_file(dir / "missing.env"); });
  EXPECT_EQ(error, (dir / "missing.env").string() + ": cannot read the .env file: No such file or directory");
  std::filesystem::remove_all(dir);
}

TEST(Dotenv, ForDaemonReadsTheWorkingDirectorysDotenvUnderTheProcessEnvironment) {
  const auto dir = std::filesystem::temp_directory_path() / ("concierge-env-cwd-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / ".env") << "CONCIERGE_TEST_FROM_DOTENV=dotenv\nCONCIERGE_TEST_BOTH=dotenv\n";
  }
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  ::setenv("CONCIERGE_TEST_BOTH", "process", 1);
  const Environment env = Environment::for_daemon(std::nullopt);
  std::filesystem::current_path(previous);
  ::unsetenv("CONCIERGE_TEST_BOTH");
  EXPECT_EQ(value_of(env, "CONCIERGE_TEST_FROM_DOTENV"), "dotenv");
  EXPECT_EQ(value_of(env, "CONCIERGE_TEST_BOTH"), "process");
  // An explicit --env-file must exist.
  EXPECT_NE(config_error_of([&] { Environment::for_daemon(dir / "nope.env"); }), "");
  std::filesystem::remove_all(dir);
}

TEST(Interpolate, PlainTextAndLoneDollarsStayAsTheyAre) {
  Environment env;
  EXPECT_EQ(env.interpolate("plain text", "k", 1), "plain text");
  EXPECT_EQ(env.interpolate("pa$word $ 5$", "k", 1), "pa$word $ 5$");
  EXPECT_EQ(env.interpolate("", "k", 1), "");
  EXPECT_EQ(env.interpolate("{braces} stay}", "k", 1), "{braces} stay}");
}

TEST(Interpolate, Variables) {
  Environment env;
  env.set("HOST", "example.com");
  env.set("EMPTY", "");
  EXPECT_EQ(env.interpolate("${HOST}", "k", 1), "example.com");
  EXPECT_EQ(env.interpolate("https://${HOST}/twiml", "k", 1), "https://example.com/twiml");
  EXPECT_EQ(env.interpolate("${UNSET}", "k", 1), "");
  EXPECT_EQ(env.interpolate("a${UNSET}b", "k", 1), "ab");
  EXPECT_EQ(env.interpolate("${EMPTY}", "k", 1), "");
  EXPECT_EQ(env.interpolate("${HOST}${HOST}", "k", 1), "example.comexample.com");
}

TEST(Interpolate, Defaults) {
  Environment env;
  env.set("PORT", "9000");
  env.set("EMPTY", "");
  EXPECT_EQ(env.interpolate("${PORT:-8080}", "k", 1), "9000");
  EXPECT_EQ(env.interpolate("${UNSET:-8080}", "k", 1), "8080");
  EXPECT_EQ(env.interpolate("${EMPTY:-8080}", "k", 1), "8080");   // :- treats empty as unset
  EXPECT_EQ(env.interpolate("${EMPTY-8080}", "k", 1), "");        // - only unset
  EXPECT_EQ(env.interpolate("${UNSET-8080}", "k", 1), "8080");
  EXPECT_EQ(env.interpolate("${UNSET:-}", "k", 1), "");
  EXPECT_EQ(env.interpolate("${UNSET:-two words: with colon}", "k", 1), "two words: with colon");
  EXPECT_EQ(env.interpolate("${UNSET:-${PORT}}", "k", 1), "9000");
  EXPECT_EQ(env.interpolate("${UNSET:-${ALSO_UNSET:-deep}}!", "k", 1), "deep!");
}

TEST(Interpolate, DollarDollarIsALiteralDollar) {
  Environment env;
  env.set("X", "value");
  EXPECT_EQ(env.interpolate("$$", "k", 1), "$");
  EXPECT_EQ(env.interpolate("$${X}", "k", 1), "${X}");
  EXPECT_EQ(env.interpolate("$$$${X}", "k", 1), "$${X}");
  EXPECT_EQ(env.interpolate("cost: $$5 ${X}", "k", 1), "cost: $5 value");
}

TEST(Interpolate, ValuesAreNotExpandedAgain) {
  Environment env;
  env.set("A", "${B}");
  env.set("B", "secret");
  EXPECT_EQ(env.interpolate("${A}", "k", 1), "${B}");
}

TEST(Interpolate, MalformedReferencesNameKeyPathAndLine) {
  Environment env;
  EXPECT_EQ(config_error_of([&] { env.interpolate("${UNCLOSED", "server.port", 4); }),
            "server.port (line 4): malformed ${...} in \"${UNCLOSED\": missing the closing '}'");
  EXPECT_EQ(config_error_of([&] { env.interpolate("${}", "server.host", 2); }),
            "server.host (line 2): malformed ${...} in \"${}\": no variable name");
  EXPECT_EQ(config_error_of([&] { env.interpolate("${1ABC}", "a.b", 7); }),
            "a.b (line 7): malformed ${...} in \"${1ABC}\": \"1ABC\" is not a variable name (letters, digits and _, "
            "not first a digit)");
  EXPECT_EQ(config_error_of([&] { env.interpolate("${A B}", "a", 1); }),
            "a (line 1): malformed ${...} in \"${A B}\": \"A B\" is not a variable name (letters, digits and _, not "
            "first a digit)");
  EXPECT_EQ(config_error_of([&] { env.interpolate("${A:?required}", "a", 1); }),
            "a (line 1): malformed ${...} in \"${A:?required}\": after ${A: only \":-default\" is supported");
  EXPECT_EQ(config_error_of([&] { env.interpolate("${A:-unclosed default", "a", 3); }),
            "a (line 3): malformed ${...} in \"${A:-unclosed default\": missing the closing '}'");
  EXPECT_EQ(config_error_of([&] { env.interpolate("${A:-${B}", "a", 3); }),
            "a (line 3): malformed ${...} in \"${A:-${B}\": missing the closing '}'");
  EXPECT_EQ(config_error_of([&] { env.interpolate("$", "a", 1); }), "");
}

TEST(Environment, FromProcessSeesTheProcessEnvironment) {
  ::setenv("CONCIERGE_ENV_TEST_VAR", "from the process", 1);
  const Environment env = Environment::from_process();
  ::unsetenv("CONCIERGE_ENV_TEST_VAR");
  EXPECT_EQ(value_of(env, "CONCIERGE_ENV_TEST_VAR"), "from the process");
  EXPECT_EQ(value_of(Environment::from_process(), "CONCIERGE_ENV_TEST_VAR"), "<unset>");
}

// Arbitrary text built from the characters that matter never crashes the parsers and fails only with ConfigError.
TEST(EnvRobustness, RandomTextEitherParsesOrThrowsConfigError) {
  const std::string alphabet = "${}:-$aZ_9 #='\"\\\n\rx";
  std::uint32_t seed = 12345;
  auto next = [&] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  Environment env;
  env.set("aZ_9", "v");
  int parsed = 0, refused = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const size_t length = next() % 24;
    for (size_t i = 0; i < length; ++i) text += alphabet[next() % alphabet.size()];
    try {
      env.interpolate(text, "k", 1);
      ++parsed;
    } catch (const ConfigError&) {
      ++refused;
    }
    try {
      Environment scratch;
      scratch.load_dotenv_text(text, "fuzz.env");
      ++parsed;
    } catch (const ConfigError&) {
      ++refused;
    }
  }
  // Both outcomes occur, so the generator reaches the error paths as well as the happy ones.
  EXPECT_GT(parsed, 1000);
  EXPECT_GT(refused, 1000);
}
