#include <algorithm>
#include <cmath>
#include <numbers>

#include "concierge/mulaw.hpp"
#include "fake_twilio/fake_twilio.hpp"

namespace concierge::fake_twilio {

SegmentScript& SegmentScript::say(std::vector<std::uint8_t> mulaw) {
  audio_.insert(audio_.end(), mulaw.begin(), mulaw.end());
  return *this;
}

SegmentScript& SegmentScript::pause(std::chrono::milliseconds duration) {
  audio_.insert(audio_.end(), static_cast<std::size_t>(duration.count()) * 8, kMulawSilence);
  return *this;
}

SegmentScript& SegmentScript::stay_on_line() {
  stay_ = true;
  return *this;
}

SegmentScript& SegmentScript::press(char key) {
  keys_.emplace_back(audio_.size(), key);
  return *this;
}

char SegmentScript::key_pressed(std::chrono::milliseconds media_time) {
  const std::size_t from = static_cast<std::size_t>(media_time.count()) * 8;
  for (const auto& [at, key] : keys_)
    if (at >= from && at < from + 160) return key;
  return 0;
}

bool SegmentScript::next_frame(std::chrono::milliseconds, std::span<std::uint8_t> frame) {
  if (position_ >= audio_.size() && !stay_) return false;
  const std::size_t take = std::min(frame.size(), audio_.size() - std::min(position_, audio_.size()));
  std::copy_n(audio_.begin() + static_cast<std::ptrdiff_t>(std::min(position_, audio_.size())), take, frame.begin());
  std::fill(frame.begin() + static_cast<std::ptrdiff_t>(take), frame.end(), kMulawSilence);
  position_ += frame.size();
  return true;
}

std::vector<std::uint8_t> tone_mulaw(double hz, std::chrono::milliseconds duration, double amplitude) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(duration.count()) * 8);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double sample = amplitude * 32767.0 * std::sin(2.0 * std::numbers::pi * hz * static_cast<double>(i) / 8000.0);
    out[i] = mulaw::encode(static_cast<std::int16_t>(sample));
  }
  return out;
}

std::string CreatedCall::field(const std::string& name) const {
  for (const auto& [key, value] : form)
    if (key == name) return value;
  return {};
}

std::vector<std::string> CreatedCall::fields(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : form)
    if (key == name) out.push_back(value);
  return out;
}

}  // namespace concierge::fake_twilio
