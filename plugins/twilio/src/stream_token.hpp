#pragma once
// One call's media-stream credential. The X-Twilio-Signature of a Media Streams handshake covers only
// wss://DOMAIN/media-stream, the same value for every call of an auth token, so whoever saw it once (a proxy log,
// ngrok's inspector) could open a stream. The signature alone therefore admits nobody: each TwiML answer carries a
// fresh random token as a <Parameter>, which Twilio hands back in the stream's start message, and a stream is
// accepted only with that token, before it expires, once.
#include <chrono>
#include <string>
#include <string_view>

namespace concierge::twilio {

// 16 bytes from the kernel's CSPRNG (getrandom) as 32 hex digits. Throws std::runtime_error if there are none.
std::string random_stream_token();

class StreamToken {
 public:
  using Clock = std::chrono::steady_clock;

  // A new token valid until now + ttl; any earlier one of this call is void (Twilio fetches the TwiML again only
  // when the call is redirected, and then streams with the new one).
  const std::string& issue(Clock::time_point now, std::chrono::seconds ttl);
  // "" when `given` is the issued token, not expired and not redeemed before; it is then spent. Otherwise why not:
  // no token was issued, none or a wrong one was given, it expired, or it was used already. Compared in constant
  // time.
  std::string redeem(std::string_view given, Clock::time_point now);
  bool issued() const { return !token_.empty(); }
  static constexpr const char* kNotIssued = "no stream token was issued for this call (its TwiML was not fetched)";

 private:
  std::string token_;
  Clock::time_point expires_{};
  bool spent_ = false;
};

}  // namespace concierge::twilio
