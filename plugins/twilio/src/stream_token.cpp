#include "stream_token.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace concierge::twilio {

std::string random_stream_token() {
  unsigned char bytes[16];
  std::size_t filled = 0;
  while (filled < sizeof bytes) {
    const ssize_t n = getrandom(bytes + filled, sizeof bytes - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("cannot make a media-stream token: getrandom failed: ") +
                               std::strerror(errno));
    }
    filled += static_cast<std::size_t>(n);
  }
  static const char hex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token.push_back(hex[b >> 4]);
    token.push_back(hex[b & 15]);
  }
  return token;
}

const std::string& StreamToken::issue(Clock::time_point now, std::chrono::seconds ttl) {
  token_ = random_stream_token();
  expires_ = now + ttl;
  spent_ = false;
  return token_;
}

std::string StreamToken::redeem(std::string_view given, Clock::time_point now) {
  if (token_.empty()) return kNotIssued;
  if (given.empty()) return "the start message carries no stream_token parameter";
  volatile unsigned char difference = given.size() != token_.size() ? 1 : 0;
  for (std::size_t i = 0; i < token_.size(); ++i)
    difference = difference | (static_cast<unsigned char>(i < given.size() ? given[i] : 0) ^
                               static_cast<unsigned char>(token_[i]));
  if (difference != 0) return "the stream_token is not this call's";
  if (spent_) return "the stream_token was used already (a replayed start message)";
  if (now > expires_) return "the stream_token expired";
  spent_ = true;
  return "";
}

}  // namespace concierge::twilio
