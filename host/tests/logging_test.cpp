#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "logging.hpp"

using concierge::LogLevel;
using concierge::host::format_log_line;
using concierge::host::make_logger;
using concierge::host::parse_log_level;

TEST(Logging, LineFormat) {
  EXPECT_EQ(format_log_line("2026-11-24 19:03:07.123", LogLevel::info, "twilio", "call placed"),
            "2026-11-24 19:03:07.123 INFO  [twilio] call placed\n");
  EXPECT_EQ(format_log_line("T", LogLevel::debug, "host", "x"), "T DEBUG [host] x\n");
  EXPECT_EQ(format_log_line("T", LogLevel::warning, "host", "x"), "T WARNING [host] x\n");
  EXPECT_EQ(format_log_line("T", LogLevel::error, "host", "x"), "T ERROR [host] x\n");
}

TEST(Logging, ControlCharactersCannotForgeLines) {
  EXPECT_EQ(format_log_line("T", LogLevel::info, "c", "a\nT ERROR [host] fake\r\x01"),
            "T INFO  [c] a\\nT ERROR [host] fake\\r\\x01\n");
}

TEST(Logging, FiltersByLevelAndStampsTheTime) {
  std::vector<std::string> lines;
  auto log = make_logger("twilio", LogLevel::warning, [&](std::string_view line) { lines.emplace_back(line); });
  log->debug("no");
  log->info("no");
  log->warning("yes");
  log->error("also");
  EXPECT_FALSE(log->enabled(LogLevel::info));
  EXPECT_TRUE(log->enabled(LogLevel::error));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(std::regex_match(lines[0], std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} WARNING \[twilio\] yes\n)")))
      << lines[0];
  EXPECT_TRUE(std::regex_match(lines[1], std::regex(R"(.* ERROR \[twilio\] also\n)"))) << lines[1];
}

TEST(Logging, ConcurrentWritersNeverInterleave) {
  std::vector<std::string> lines;  // guarded by the loggers' shared mutex
  auto sink = [&](std::string_view line) { lines.emplace_back(line); };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto log = make_logger("t" + std::to_string(t), LogLevel::debug, sink);
      for (int i = 0; i < 500; ++i) log->info("message " + std::to_string(i));
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(lines.size(), 2000u);
  for (const auto& line : lines) EXPECT_TRUE(std::regex_match(line, std::regex(R"(.* INFO  \[t\d\] message \d+\n)")));
}

TEST(Logging, ParseLevel) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::debug);
  EXPECT_EQ(parse_log_level("INFO"), LogLevel::info);
  EXPECT_EQ(parse_log_level("Warning"), LogLevel::warning);
  EXPECT_EQ(parse_log_level("warn"), LogLevel::warning);
  EXPECT_EQ(parse_log_level("ERROR"), LogLevel::error);
  EXPECT_EQ(parse_log_level("critical"), LogLevel::error);
  EXPECT_EQ(parse_log_level("verbose"), std::nullopt);
  EXPECT_EQ(parse_log_level(""), std::nullopt);
}

TEST(Logging, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(format_log_line("T", LogLevel::info, "c", "AnsweredBy=\xFF!"), "T INFO  [c] AnsweredBy=\xEF\xBF\xBD!\n");
}

TEST(Logging, RepeatedWarningsAreLimitedAndCounted) {
  std::vector<std::string> lines;
  auto log = make_logger("http", LogLevel::info, [&](std::string_view line) { lines.emplace_back(line); });
  for (int i = 0; i < 1000; ++i) log->warning("refused a connection from 10.0.0." + std::to_string(i % 250));
  for (int i = 0; i < 30; ++i) log->info("call " + std::to_string(i) + " placed");  // info lines are never limited
  log->warning("another kind of warning");
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(concierge::host::kRepeatBurst) + 30 + 1);
  for (int i = 0; i < concierge::host::kRepeatBurst; ++i)
    EXPECT_NE(lines[i].find("refused a connection"), std::string::npos);
}

TEST(Logging, SecretsAreMaskedInEveryLine) {
  concierge::SecretMask secrets;
  secrets.add("sk-test-0123456789");
  concierge::host::set_log_secrets(secrets);
  std::vector<std::string> lines;
  auto log = make_logger("openai", LogLevel::info, [&](std::string_view line) { lines.emplace_back(line); });
  log->error("provider said: invalid key sk-test-0123456789 given");
  concierge::host::set_log_secrets({});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find("sk-test-0123456789"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("invalid key [redacted] given"), std::string::npos) << lines[0];
}
