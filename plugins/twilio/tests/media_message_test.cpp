#include <gtest/gtest.h>

#include "media_message.hpp"

namespace concierge::twilio {
namespace {

TEST(MediaScanner, ReadsTwiliosMediaMessage) {
  const std::string message =
      R"({"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5",)"
      R"("payload":"no+JhoaJjpz/"},"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"})";
  MediaMessageView view;
  ASSERT_EQ(scan_media_message(message, view), ScanResult::media);
  EXPECT_EQ(view.payload, "no+JhoaJjpz/");
  EXPECT_EQ(view.timestamp, "5");
  EXPECT_EQ(view.track, "inbound");
  EXPECT_EQ(view.stream_sid, "MZ18ad3ab5a668481ce02b83e7395059f0");
}

TEST(MediaScanner, AnyKeyOrderAndWhitespace) {
  MediaMessageView view;
  ASSERT_EQ(scan_media_message(" { \"streamSid\" : \"MZ1\" , \"media\" : { \"payload\" : \"AAAA\" , \"timestamp\" : 60 "
                               "} , \"event\" : \"media\" } ",
                               view),
            ScanResult::media);
  EXPECT_EQ(view.payload, "AAAA");
  EXPECT_EQ(view.timestamp, "60");
}

TEST(MediaScanner, ReadsMarks) {
  MediaMessageView view;
  ASSERT_EQ(scan_media_message(R"({"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"17"}})", view),
            ScanResult::mark);
  EXPECT_EQ(view.mark_name, "17");
}

TEST(MediaScanner, LeavesOtherEventsToTheJsonParser) {
  MediaMessageView view;
  EXPECT_EQ(scan_media_message(R"({"event":"connected","protocol":"Call","version":"1.0.0"})", view),
            ScanResult::other);
  EXPECT_EQ(scan_media_message(R"({"event":"start","start":{"customParameters":{"call_id":"a"},"tracks":["inbound"]}})",
                               view),
            ScanResult::other);
  EXPECT_EQ(scan_media_message(R"({"event":"weird"})", view), ScanResult::other);
  // Escapes in the fields it reads: correct JSON, but the full parser must decode it.
  EXPECT_EQ(scan_media_message(R"({"event":"me\u0064ia","media":{"payload":"AAAA"}})", view), ScanResult::other);
  EXPECT_EQ(scan_media_message(R"({"event":"media","media":{"payload":"AA\/A"}})", view), ScanResult::other);
}

TEST(MediaScanner, RejectsMalformedMessages) {
  MediaMessageView view;
  for (const char* bad : {"", "{", "}", "[]", "null", R"({"event":"media")", R"({"event":"media",})",
                          R"({"event":"media","media":{"payload":"AAAA"}} trailing)", R"({"event" "media"})",
                          R"({"event":"media","media":{"payload":"AAAA}})", R"({"event":"media","media":{}})",
                          R"({"event":"mark","mark":{}})", R"({"event":"media","media":{"payload":nul}})",
                          "{\"event\":\"media\",\"media\":{\"payload\":\"A\nA\"}}"}) {
    EXPECT_EQ(scan_media_message(bad, view), ScanResult::malformed) << bad;
  }
}

TEST(MediaScanner, DeepNestingIsRefusedNotRecursedForever) {
  std::string deep = R"({"event":"media","x":)";
  for (int i = 0; i < 10000; ++i) deep += '[';
  MediaMessageView view;
  EXPECT_EQ(scan_media_message(deep, view), ScanResult::malformed);
}

TEST(MediaScanner, Timestamps) {
  std::uint64_t us = 0;
  EXPECT_TRUE(parse_timestamp_ms("1234", us));
  EXPECT_EQ(us, 1'234'000u);
  EXPECT_FALSE(parse_timestamp_ms("", us));
  EXPECT_FALSE(parse_timestamp_ms("12a", us));
  EXPECT_FALSE(parse_timestamp_ms("-5", us));
  EXPECT_FALSE(parse_timestamp_ms("99999999999999999999", us));
}

}  // namespace
}  // namespace concierge::twilio
