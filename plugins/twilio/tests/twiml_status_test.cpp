#include <gtest/gtest.h>

#include "status_callback.hpp"
#include "twiml.hpp"

namespace concierge::twilio {
namespace {

TEST(TwiML, ConnectsTheStreamWithTheCallIdAsAParameter) {
  EXPECT_EQ(connect_stream_twiml("abc123.ngrok.io", {{"call_id", "c-42"}}),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect><Stream "
            "url=\"wss://abc123.ngrok.io/media-stream\"><Parameter name=\"call_id\" value=\"c-42\"/></Stream>"
            "</Connect></Response>");
}

TEST(TwiML, EscapesEveryValue) {
  const auto xml = connect_stream_twiml("a\"b.example", {{"call_id", "x\"/><Hangup/><x a=\"&'<>"}});
  EXPECT_NE(xml.find("url=\"wss://a&quot;b.example/media-stream\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("value=\"x&quot;/&gt;&lt;Hangup/&gt;&lt;x a=&quot;&amp;&apos;&lt;&gt;\""), std::string::npos)
      << xml;
  EXPECT_EQ(xml.find("<Hangup"), std::string::npos);
}

TEST(StatusCallback, MapsEveryTwilioCallStatus) {
  const std::pair<const char*, CallStatus> cases[] = {
      {"queued", CallStatus::dialing},       {"initiated", CallStatus::dialing},
      {"ringing", CallStatus::ringing},      {"in-progress", CallStatus::in_progress},
      {"completed", CallStatus::completed},  {"busy", CallStatus::busy},
      {"no-answer", CallStatus::no_answer},  {"failed", CallStatus::failed},
      {"canceled", CallStatus::canceled}};
  for (const auto& [text, status] : cases) {
    const auto update = status_from_callback({{"CallSid", "CA1"}, {"CallStatus", text}});
    ASSERT_TRUE(update) << text;
    EXPECT_EQ(update->status, status) << text;
  }
  EXPECT_FALSE(status_from_callback({{"CallStatus", "exploded"}}));
  EXPECT_FALSE(status_from_callback({{"CallSid", "CA1"}}));
}

TEST(StatusCallback, CarriesDurationAnsweredByAndReasons) {
  auto done = status_from_callback({{"CallStatus", "completed"}, {"CallDuration", "42"}, {"AnsweredBy", "human"}});
  ASSERT_TRUE(done);
  EXPECT_EQ(done->duration_seconds, 42);
  EXPECT_EQ(done->answered_by, "human");
  auto bad_duration = status_from_callback({{"CallStatus", "completed"}, {"CallDuration", "4x"}});
  EXPECT_FALSE(bad_duration->duration_seconds);
  EXPECT_EQ(status_from_callback({{"CallStatus", "busy"}})->reason, "the line was busy");
  EXPECT_EQ(status_from_callback({{"CallStatus", "no-answer"}})->reason, "nobody answered");
  EXPECT_EQ(status_from_callback({{"CallStatus", "failed"}, {"SipResponseCode", "404"}})->reason,
            "Twilio could not connect the call (SIP 404)");
}

}  // namespace
}  // namespace concierge::twilio
