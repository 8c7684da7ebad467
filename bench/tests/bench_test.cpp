#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "concierge/base64.hpp"
#include "stats.hpp"
#include "twilio_wire.hpp"

namespace {

using namespace concierge::bench;

TEST(TwilioWire, MessagesHaveTwilioShape) {
  const StreamIdentity id = make_identity(42, 7);
  EXPECT_EQ(id.account_sid.size(), 34u);
  EXPECT_EQ(id.call_sid.rfind("CA", 0), 0u);
  EXPECT_EQ(id.stream_sid.rfind("MZ", 0), 0u);

  const auto connected = nlohmann::json::parse(connected_message());
  EXPECT_EQ(connected["event"], "connected");
  EXPECT_EQ(connected["protocol"], "Call");
  EXPECT_EQ(connected["version"], "1.0.0");

  const auto start = nlohmann::json::parse(start_message(id, {{"from", "+15551234567"}, {"q\"uote", "a\\b"}}));
  EXPECT_EQ(start["event"], "start");
  EXPECT_EQ(start["sequenceNumber"], "1");
  EXPECT_EQ(start["streamSid"], id.stream_sid);
  EXPECT_EQ(start["start"]["streamSid"], id.stream_sid);
  EXPECT_EQ(start["start"]["callSid"], id.call_sid);
  EXPECT_EQ(start["start"]["accountSid"], id.account_sid);
  EXPECT_EQ(start["start"]["tracks"], nlohmann::json::array({"inbound"}));
  EXPECT_EQ(start["start"]["customParameters"]["from"], "+15551234567");
  EXPECT_EQ(start["start"]["customParameters"]["q\"uote"], "a\\b");
  EXPECT_EQ(start["start"]["mediaFormat"]["encoding"], "audio/x-mulaw");
  EXPECT_EQ(start["start"]["mediaFormat"]["sampleRate"], 8000);
  EXPECT_EQ(start["start"]["mediaFormat"]["channels"], 1);

  std::uint8_t frame[kFrameBytes];
  fill_frame(frame, 7, 3);
  std::string out;
  media_message(out, id, 5, 4, 60, frame, kFrameBytes);
  const auto media = nlohmann::json::parse(out);
  EXPECT_EQ(media["event"], "media");
  EXPECT_EQ(media["sequenceNumber"], "5");
  EXPECT_EQ(media["media"]["track"], "inbound");
  EXPECT_EQ(media["media"]["chunk"], "4");
  EXPECT_EQ(media["media"]["timestamp"], "60");
  EXPECT_EQ(media["streamSid"], id.stream_sid);
  const auto payload = concierge::base64::decode(media["media"]["payload"].get<std::string>());
  ASSERT_TRUE(payload);
  ASSERT_EQ(payload->size(), kFrameBytes);
  const auto marker = read_marker(reinterpret_cast<const std::uint8_t*>(payload->data()), payload->size());
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->call_index, 7u);
  EXPECT_EQ(marker->sequence, 3u);

  const auto stop = nlohmann::json::parse(stop_message(id, 9));
  EXPECT_EQ(stop["event"], "stop");
  EXPECT_EQ(stop["stop"]["callSid"], id.call_sid);
  mark_message(out, id, 10, "17");
  const auto mark = nlohmann::json::parse(out);
  EXPECT_EQ(mark["event"], "mark");
  EXPECT_EQ(mark["mark"]["name"], "17");
}

TEST(TwilioWire, IdsDifferPerCall) {
  std::set<std::string> seen;
  for (std::uint32_t i = 0; i < 3000; ++i) EXPECT_TRUE(seen.insert(make_identity(1, i).stream_sid).second);
}

TEST(TwilioWire, ScansWhatTheDaemonSends) {
  auto media = scan_server_message(R"({"event":"media","streamSid":"MZ1","media":{"payload":"AAEC"}})");
  EXPECT_EQ(media.kind, ServerMessage::Kind::media);
  EXPECT_EQ(media.payload, "AAEC");
  auto spaced = scan_server_message(R"({ "event" : "media", "media": { "payload" : "Zg==" } })");
  EXPECT_EQ(spaced.kind, ServerMessage::Kind::media);
  EXPECT_EQ(spaced.payload, "Zg==");
  auto mark = scan_server_message(R"({"event":"mark","streamSid":"MZ1","mark":{"name":"12"}})");
  EXPECT_EQ(mark.kind, ServerMessage::Kind::mark);
  EXPECT_EQ(mark.mark_name, "12");
  EXPECT_EQ(scan_server_message(R"({"event":"clear","streamSid":"MZ1"})").kind, ServerMessage::Kind::clear);
  EXPECT_EQ(scan_server_message(R"({"event":"other"})").kind, ServerMessage::Kind::other);
  EXPECT_EQ(scan_server_message(R"({"event":"media"})").kind, ServerMessage::Kind::malformed);
  EXPECT_EQ(scan_server_message("not json").kind, ServerMessage::Kind::malformed);
  // A key that merely ends in "event" is not the event.
  EXPECT_EQ(scan_server_message(R"({"xevent":"media","event":"mark","mark":{"name":"1"}})").kind,
            ServerMessage::Kind::mark);
}

TEST(TwilioWire, SignatureIsHmacSha1OfUrlAndSortedParameters) {
  // RFC 2202 test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?") = effcdf6ae5eb2fa2d27416d5f184df9c259a7c79.
  EXPECT_EQ(twilio_signature("Jefe", "what do ya want for nothing?"), "7/zfauXrL6LSdBbV8YTfnCWafHk=");
  EXPECT_EQ(twilio_signature("token", "https://x.example/twiml", {{"b", "2"}, {"a", "1"}}),
            twilio_signature("token", "https://x.example/twimla1b2"));
}

TEST(TwilioWire, MarkerSurvivesOnlyUnalteredFrames) {
  std::uint8_t frame[kFrameBytes];
  fill_frame(frame, 123456, 654321);
  auto marker = read_marker(frame, kFrameBytes);
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->call_index, 123456u);
  EXPECT_EQ(marker->sequence, 654321u);
  EXPECT_FALSE(read_marker(frame, kFrameBytes - 1));
  frame[1] ^= 1;
  EXPECT_FALSE(read_marker(frame, kFrameBytes));
}

TEST(Stats, NearestRankQuantiles) {
  std::vector<double> values{5, 1, 4, 2, 3, 6, 7, 8, 9, 10};
  EXPECT_EQ(quantile(values, 0.5), 5);
  EXPECT_EQ(quantile(values, 0.99), 10);
  EXPECT_EQ(quantile(values, 0.0), 1);
  std::vector<double> none;
  EXPECT_EQ(quantile(none, 0.5), 0);
}

}  // namespace
