// A user's bookings, driven through the real CLI binary against the real daemon and the simulated restaurant.
#include "integration.hpp"

using namespace concierge::testing;

namespace {

class CliBooking : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new Daemon(config_path("fast.yaml"));
    ASSERT_TRUE(daemon_->started()) << daemon_->output();
  }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }
  static RunResult book(const std::string& request) {
    return run_program(CONCIERGE_CLI_BINARY, {"--server", daemon_->url(), "book", request}, std::chrono::seconds(90));
  }
  static Daemon* daemon_;
};
Daemon* CliBooking::daemon_ = nullptr;

void expect_contains(const std::string& text, const std::string& needle) {
  EXPECT_NE(text.find(needle), std::string::npos) << "missing \"" << needle << "\" in:\n" << text;
}

TEST_F(CliBooking, TheSeedsRequestIsBookedAndTheConfirmationPrinted) {
  auto r = book("Book a table at Demo Restaurant for 4 people tomorrow at 7pm");
  EXPECT_EQ(r.status, 0) << r.output;
  expect_contains(r.output, "Dialing Demo Restaurant (+1234567890)");
  expect_contains(r.output, "Ringing");
  expect_contains(r.output, "Connected");
  expect_contains(r.output, "Restaurant: ");  // the live transcript
  expect_contains(r.output, "Agent: ");
  // The agent says first that it is an automated assistant, and for whom (the agent's `disclosure`, on by default).
  expect_contains(r.output, "Agent: Hi, this is an automated assistant calling on behalf of Alex Morgan.");
  expect_contains(r.output, "Reservation confirmed!");
  expect_contains(r.output, "Date:         2026-11-25");
  expect_contains(r.output, "Time:         19:00");
  expect_contains(r.output, "Party size:   4");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(Confirmation: ([0-9]{4}))"))) << r.output;
  // The printed number is the one the restaurant said (spelled out) in the transcript.
  static const char* kWords[] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
  std::string spoken;
  for (char digit : m[1].str()) spoken += std::string(spoken.empty() ? "" : " ") + kWords[digit - '0'];
  expect_contains(r.output, "confirmation number is " + spoken);
}

TEST_F(CliBooking, WordsForNumbersAndOtherPhrasings) {
  auto r = book("party of two at demo restaurant on Friday at 8:30 pm");
  EXPECT_EQ(r.status, 0) << r.output;
  expect_contains(r.output, "Party size:   2");
  expect_contains(r.output, "Time:         20:30");
  expect_contains(r.output, "Date:         2026-11-27");
}

// An automated phone menu answers: the agent presses 1 (the SDK's press_keys tool, played by the host as DTMF on the
// line), the simulated line's detector hears the tones in the agent's audio, and only then does a person answer.
TEST_F(CliBooking, APhoneMenuIsNavigatedWithKeypadTones) {
  auto r = book("Book a table at Menu Kitchen for 3 people tomorrow at 7pm");
  EXPECT_EQ(r.status, 0) << r.output;
  expect_contains(r.output, "For reservations, press 1");
  expect_contains(r.output, "Please hold while I connect you");  // said only once the key was heard
  expect_contains(r.output, "Reservation confirmed!");
  expect_contains(r.output, "Party size:   3");
}

// A menu whose options never reach reservations or a person: the agent gives up with that reason, and never makes
// its request to the machine.
TEST_F(CliBooking, ADeadEndPhoneMenuFailsWithThatReason) {
  auto r = book("Book a table at Maze Line for 2 people tomorrow at 7pm");
  EXPECT_EQ(r.status, 1) << r.output;
  expect_contains(r.output, "For our address, press 3");
  expect_contains(r.output, "none of its options reached reservations or a person");
  expect_contains(r.output, "Booking failed");
  expect_contains(r.output, "  Outcome: a phone menu answered and none of its options reached a person\n");
  EXPECT_EQ(r.output.find("I'd like to book"), std::string::npos) << r.output;
}

// Voicemail answers (the config's policy: leave_message): the message is left after the beep the agent heard in the
// line's audio, and the result says so with what was said; a machine without a beep gets no message.
TEST_F(CliBooking, VoicemailGetsAMessageOnlyAfterItsBeep) {
  auto r = book("Book a table at Voicemail Deli for 2 people tomorrow at 7pm");
  EXPECT_EQ(r.status, 1) << r.output;
  expect_contains(r.output, "Please leave a message after the tone");
  expect_contains(r.output, "Voicemail answered at Voicemail Deli; a message was left");
  expect_contains(r.output, "Please call Alex Morgan back at +15551230000");
  expect_contains(r.output, "  Outcome: voicemail answered, a message was left after the beep\n");
  EXPECT_EQ(r.output.find("I'd like to book"), std::string::npos) << r.output;
  // The agent (on the C boundary, C ABI 1.1) asked for the host's beep detector: the host heard the beep end in the
  // line's audio and said so in the transcript, before the message, which the agent accepted only after it.
  std::smatch beep;
  ASSERT_TRUE(std::regex_search(r.output, beep, std::regex(R"(  \[\(a beep on the line, [0-9]+ Hz, has ended\)\])")))
      << r.output;
  EXPECT_LT(static_cast<std::size_t>(beep.position(0)), r.output.find("Please call Alex Morgan back")) << r.output;
  // `concierge status` says the same of the finished call.
  std::smatch id;
  ASSERT_TRUE(std::regex_search(r.output, id, std::regex(R"(Call (call_[0-9a-f]+) queued)"))) << r.output;
  auto status = run_program(CONCIERGE_CLI_BINARY, {"--server", daemon_->url(), "status", id[1].str()},
                            std::chrono::seconds(30));
  expect_contains(status.output, "  Outcome: voicemail answered, a message was left after the beep\n");
  auto beepless = book("Book a table at Beepless Bar for 2 people tomorrow at 7pm");
  EXPECT_EQ(beepless.status, 1) << beepless.output;
  expect_contains(beepless.output, "Voicemail answered at Beepless Bar; no message was left");
  expect_contains(beepless.output, "  Outcome: voicemail answered, no message left\n");
  EXPECT_EQ(beepless.output.find("hoping to book"), std::string::npos) << beepless.output;
  EXPECT_EQ(beepless.output.find("a beep on the line"), std::string::npos) << beepless.output;
}

TEST_F(CliBooking, AFullyBookedRestaurantIsAFailureWithItsReason) {
  auto r = book("Book a table at Full House for 2 people tomorrow at 8pm");
  EXPECT_EQ(r.status, 1) << r.output;
  expect_contains(r.output, "fully booked");
  expect_contains(r.output, "Booking failed");
  expect_contains(r.output, "  Outcome: not available\n");
}

TEST_F(CliBooking, AnOfferedTimeWithinToleranceIsAccepted) {
  auto r = book("Book a table at Half Past Diner for 3 people tomorrow at 7pm");
  EXPECT_EQ(r.status, 0) << r.output;
  expect_contains(r.output, "Reservation confirmed!");
  expect_contains(r.output, "Time:         19:30");  // offered 30 minutes later, within the 60 minute tolerance
}

TEST_F(CliBooking, AnOfferedTimeOutsideToleranceIsDeclined) {
  auto r = book("Book a table at Late Night Grill for 3 people tomorrow at 7pm");
  EXPECT_EQ(r.status, 1) << r.output;
  expect_contains(r.output, "Booking failed");
}

TEST_F(CliBooking, BusyAndNoAnswer) {
  auto busy = book("Book a table at Busy Bistro for 2 people tomorrow at 7pm");
  EXPECT_EQ(busy.status, 1) << busy.output;
  expect_contains(busy.output, "busy");
  auto silent = book("Book a table at Quiet Cafe for 2 people tomorrow at 7pm");
  EXPECT_EQ(silent.status, 1) << silent.output;
  expect_contains(silent.output, "answer");
}

TEST_F(CliBooking, AMissingDetailIsAskedFor) {
  auto r = book("Book a table at Demo Restaurant tomorrow at 7pm");
  EXPECT_NE(r.status, 0) << r.output;
  expect_contains(r.output, "How many");
}

// The directory knows Corner Bistro's hours: a Monday (closed) or 4 PM (before it opens) is said before the phone
// rings, with the hours; the answer books the call.
TEST_F(CliBooking, AClosedDayOrHourIsSaidBeforeDialingAndTheAnswerBooks) {
  auto monday = book("Book a table at Corner Bistro for 2 on Monday at 7pm");
  EXPECT_NE(monday.status, 0) << monday.output;
  expect_contains(monday.output, "Corner Bistro is closed on Mondays (it takes tables Tuesday to Sunday)");
  EXPECT_EQ(monday.output.find("Dialing"), std::string::npos) << monday.output;
  auto early = book("Book a table at Corner Bistro for 2 tomorrow at 4pm");
  EXPECT_NE(early.status, 0) << early.output;
  expect_contains(early.output, "from 5 PM to 10 PM, not at 4 PM");
  EXPECT_EQ(early.output.find("Dialing"), std::string::npos) << early.output;

  auto r = run_program(CONCIERGE_CLI_BINARY, {"--server", daemon_->url()}, std::chrono::seconds(90), {},
                       "Book a table at Corner Bistro for 2 on Monday at 7pm\nWednesday\ny\nquit\n");
  EXPECT_EQ(r.status, 0) << r.output;
  expect_contains(r.output, "closed on Mondays");
  expect_contains(r.output, "Wednesday 25 November at 7 PM, 2 people, Corner Bistro (+15550000007)");
  expect_contains(r.output, "Reservation confirmed!");
  expect_contains(r.output, "Date:         2026-11-25");
}

TEST_F(CliBooking, InteractiveModeAsksBackAndBooks) {
  auto r = run_program(CONCIERGE_CLI_BINARY, {"--server", daemon_->url()}, std::chrono::seconds(90), {},
                       "Book a table at Demo Restaurant tomorrow at 7pm\n4 people\ny\nquit\n");
  EXPECT_EQ(r.status, 0) << r.output;
  expect_contains(r.output, "Your request: ");
  expect_contains(r.output, "How many");
  // The plan is read back in words before the phone rings; "y" places the call.
  expect_contains(r.output, "Plan: ");
  expect_contains(r.output, "at 7 PM, 4 people, Demo Restaurant (+1234567890)");
  expect_contains(r.output, "Call now?");
  expect_contains(r.output, "Reservation confirmed!");
  expect_contains(r.output, "Party size:   4");
}

TEST(CliWithoutDaemon, SaysClearlyThatTheDaemonIsNotRunning) {
  auto r = run_program(CONCIERGE_CLI_BINARY, {"--server", "http://127.0.0.1:1", "book", "Book a table"},
                       std::chrono::seconds(20));
  EXPECT_EQ(r.status, 2) << r.output;
  expect_contains(r.output, "Cannot reach the concierge daemon at http://127.0.0.1:1");
  EXPECT_LT(std::count(r.output.begin(), r.output.end(), '\n'), 4) << "one clear message, not a stack of errors";
}

}  // namespace
