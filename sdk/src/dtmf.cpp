#include "concierge/dtmf.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <stdexcept>
#include <string>

namespace concierge::dtmf {
namespace {

constexpr std::array<double, 4> kLow{697, 770, 852, 941};
constexpr std::array<double, 4> kHigh{1209, 1336, 1477, 1633};
// Rows of the keypad, columns 1209 / 1336 / 1477 / 1633 Hz.
constexpr std::array<std::string_view, 4> kRows{"123A", "456B", "789C", "*0#D"};

bool find_key(char key, std::size_t& row, std::size_t& column) {
  for (row = 0; row < kRows.size(); ++row) {
    const auto at = kRows[row].find(key);
    if (at != std::string_view::npos) {
      column = at;
      return true;
    }
  }
  return false;
}

double amplitude_of(double dbm0) { return kZeroDbm0Peak * std::pow(10.0, dbm0 / 20.0); }

std::size_t samples_of(std::chrono::milliseconds duration, std::uint32_t rate) {
  return static_cast<std::size_t>(duration.count()) * rate / 1000;
}

void check_rate(std::uint32_t rate) {
  if (rate < 8000 || rate > 48000)
    throw std::invalid_argument("DTMF needs a sample rate from 8000 to 48000 Hz, not " + std::to_string(rate));
}

}  // namespace

bool is_key(char key) {
  std::size_t row = 0, column = 0;
  return key != '\0' && find_key(key, row, column);
}

KeyFrequencies frequencies(char key) {
  std::size_t row = 0, column = 0;
  if (key == '\0' || !find_key(key, row, column))
    throw std::invalid_argument(std::string("\"") + key + "\" is not a keypad key (0-9, *, #, A-D)");
  return {kLow[row], kHigh[column]};
}

// ---- Generator --------------------------------------------------------------------------------------------------

Generator::Generator(std::uint32_t sample_rate, ToneSettings settings)
    : sample_rate_(sample_rate), settings_(settings) {
  check_rate(sample_rate);
  if (settings.tone < std::chrono::milliseconds(20) || settings.tone > std::chrono::milliseconds(1000))
    throw std::invalid_argument("a DTMF tone lasts from 20 to 1000 ms");
  if (settings.gap < std::chrono::milliseconds(0) || settings.gap > std::chrono::milliseconds(5000))
    throw std::invalid_argument("a DTMF gap lasts from 0 to 5000 ms");
  if (settings.low_dbm0 > 0 || settings.high_dbm0 > 0 || settings.low_dbm0 < -60 || settings.high_dbm0 < -60)
    throw std::invalid_argument("DTMF levels are from -60 to 0 dBm0");
  tone_samples_ = samples_of(settings.tone, sample_rate);
  gap_samples_ = samples_of(settings.gap, sample_rate);
  ramp_samples_ = std::min(samples_of(settings.ramp, sample_rate), tone_samples_ / 2);
  low_amplitude_ = amplitude_of(settings.low_dbm0);
  high_amplitude_ = amplitude_of(settings.high_dbm0);
}

void Generator::press(std::string_view keys) {
  for (char key : keys)
    if (!is_key(key)) throw std::invalid_argument(std::string("\"") + key + "\" is not a keypad key (0-9, *, #, A-D)");
  if (count_ - current_ + keys.size() > kMaxQueued)
    throw std::invalid_argument("at most " + std::to_string(kMaxQueued) + " key presses can be queued");
  if (current_ > 0) {  // move what is still to play to the front
    std::memmove(queue_.data(), queue_.data() + current_, count_ - current_);
    count_ -= current_;
    current_ = 0;
  }
  const bool was_idle = !busy();
  std::memcpy(queue_.data() + count_, keys.data(), keys.size());
  count_ += keys.size();
  if (was_idle && busy()) {
    position_ = 0;
    start_key();
  }
}

void Generator::clear() {
  current_ = count_ = 0;
  position_ = 0;
}

std::chrono::microseconds Generator::remaining() const {
  if (!busy()) return std::chrono::microseconds(0);
  const std::size_t per_key = tone_samples_ + gap_samples_;
  const std::size_t samples = (per_key - position_) + (count_ - current_ - 1) * per_key;
  return std::chrono::microseconds(samples * 1'000'000ull / sample_rate_);
}

void Generator::start_key() {
  const KeyFrequencies f = frequencies(queue_[current_]);
  const double low = 2 * std::numbers::pi * f.low_hz / sample_rate_;
  const double high = 2 * std::numbers::pi * f.high_hz / sample_rate_;
  // Phase 0 (the sine part starts at zero) and unit phasors: the ramp then starts from silence exactly.
  low_re_ = 1, low_im_ = 0, low_step_re_ = std::cos(low), low_step_im_ = std::sin(low);
  high_re_ = 1, high_im_ = 0, high_step_re_ = std::cos(high), high_step_im_ = std::sin(high);
}

std::size_t Generator::generate(std::span<std::int16_t> out) {
  std::size_t produced = 0;
  for (auto& sample : out) {
    if (!busy()) {
      sample = 0;
      continue;
    }
    ++produced;
    if (position_ < tone_samples_) {
      double envelope = 1.0;
      if (position_ < ramp_samples_)
        envelope = 0.5 * (1 - std::cos(std::numbers::pi * static_cast<double>(position_) / ramp_samples_));
      else if (position_ >= tone_samples_ - ramp_samples_)
        envelope = 0.5 * (1 - std::cos(std::numbers::pi * static_cast<double>(tone_samples_ - position_) /
                                       ramp_samples_));
      const double value = envelope * (low_amplitude_ * low_im_ + high_amplitude_ * high_im_);
      sample = static_cast<std::int16_t>(std::lround(std::clamp(value, -32768.0, 32767.0)));
      // Advance both oscillators by one sample (a complex multiplication each).
      const double lr = low_re_ * low_step_re_ - low_im_ * low_step_im_;
      low_im_ = low_re_ * low_step_im_ + low_im_ * low_step_re_;
      low_re_ = lr;
      const double hr = high_re_ * high_step_re_ - high_im_ * high_step_im_;
      high_im_ = high_re_ * high_step_im_ + high_im_ * high_step_re_;
      high_re_ = hr;
      if ((position_ & 255) == 255) {  // rounding drifts the magnitude slowly: put it back on the unit circle
        const double l = std::hypot(low_re_, low_im_), h = std::hypot(high_re_, high_im_);
        low_re_ /= l, low_im_ /= l, high_re_ /= h, high_im_ /= h;
      }
    } else {
      sample = 0;
    }
    if (++position_ == tone_samples_ + gap_samples_) {
      position_ = 0;
      if (++current_ < count_) start_key();
      else clear();
    }
  }
  return produced;
}

// ---- Detector ---------------------------------------------------------------------------------------------------

Detector::Detector(std::uint32_t sample_rate, DetectorSettings settings)
    : sample_rate_(sample_rate), settings_(settings) {
  check_rate(sample_rate);
  block_ = static_cast<std::size_t>(std::lround(205.0 * sample_rate / 8000.0));
  if (block_ > kMaxBlock) throw std::invalid_argument("DTMF detector: sample rate too high");
  hop_ = block_ / 2;
  for (std::size_t i = 0; i < kTones; ++i) {
    const double f = i < 4 ? kLow[i] : kHigh[i - 4];
    coefficient_[i] = 2 * std::cos(2 * std::numbers::pi * f / sample_rate);
  }
}

void Detector::reset() {
  filled_ = 0;
  candidate_ = reported_ = 0;
}

std::string_view Detector::process(std::span<const std::int16_t> samples) {
  if (samples.size() > sample_rate_)
    throw std::length_error("DTMF detector: at most one second of samples per call");
  std::size_t reported = 0;
  std::size_t at = 0;
  while (at < samples.size()) {
    const std::size_t n = std::min(block_ - filled_, samples.size() - at);
    std::memcpy(window_.data() + filled_, samples.data() + at, n * sizeof(std::int16_t));
    filled_ += n;
    at += n;
    if (filled_ < block_) break;
    const char key = classify_block();
    if (key != reported_) reported_ = 0;  // a block without the reported key releases it
    if (key != 0 && key == candidate_ && reported_ == 0) {
      reported_ = key;
      out_[reported++] = key;
    }
    candidate_ = key;
    // Advance by half a block: the newer half becomes the older half of the next block.
    std::memmove(window_.data(), window_.data() + hop_, (block_ - hop_) * sizeof(std::int16_t));
    filled_ = block_ - hop_;
  }
  return {out_.data(), reported};
}

char Detector::classify_block() const {
  // The Goertzel recurrence per frequency; power is normalised to a sine's mean power (A^2 / 2).
  auto power = [&](std::size_t tone) {
    const double c = coefficient_[tone];
    double s1 = 0, s2 = 0;
    for (std::size_t i = 0; i < block_; ++i) {
      const double s = window_[i] + c * s1 - s2;
      s2 = s1;
      s1 = s;
    }
    const double magnitude2 = s1 * s1 + s2 * s2 - c * s1 * s2;
    return 2.0 * magnitude2 / (static_cast<double>(block_) * block_);
  };
  std::array<double, kTones> p{};
  for (std::size_t i = 0; i < kTones; ++i) p[i] = power(i);
  const auto low = static_cast<std::size_t>(std::max_element(p.begin(), p.begin() + 4) - p.begin());
  const auto high = static_cast<std::size_t>(std::max_element(p.begin() + 4, p.end()) - p.begin());
  const double zero_dbm0 = kZeroDbm0Peak * kZeroDbm0Peak / 2;
  const double min_power = zero_dbm0 * std::pow(10.0, settings_.min_dbm0 / 10);
  if (p[low] < min_power || p[high] < min_power) return 0;
  const double margin = std::pow(10.0, -settings_.min_group_margin_db / 10);
  for (std::size_t i = 0; i < kTones; ++i)
    if (i != low && i != high && p[i] > (i < 4 ? p[low] : p[high]) * margin) return 0;
  const double twist_db = 10 * std::log10(p[high] / p[low]);
  if (twist_db < -settings_.max_normal_twist_db || twist_db > settings_.max_reverse_twist_db) return 0;
  double energy = 0;
  for (std::size_t i = 0; i < block_; ++i) energy += static_cast<double>(window_[i]) * window_[i];
  energy /= static_cast<double>(block_);
  if (p[low] + p[high] < settings_.min_tone_energy_share * energy) return 0;
  return kRows[low][high - 4];
}

// ---- the press_keys tool -------------------------------------------------------------------------------------

ToolDefinition press_keys_tool() {
  return {std::string(kPressKeysTool),
          "Press keys on the phone's keypad (DTMF tones on the line), for example to choose an option in an automated "
          "phone menu (\"press 1 for reservations\") or to reach a person (often 0). Press only what the menu asked "
          "for; the tones are played after anything you have already said.",
          {{"type", "object"},
           {"properties",
            {{"keys",
              {{"type", "string"},
               {"description", "the keys to press, in order: digits 0-9, * and #"},
               {"pattern", "^[0-9*#A-D]{1,20}$"}}}}},
           {"required", {"keys"}}}};
}

std::optional<std::string> keys_to_press(const nlohmann::json& arguments) {
  if (!arguments.is_object() || !arguments.contains("keys") || !arguments["keys"].is_string()) return std::nullopt;
  const std::string keys = arguments["keys"].get<std::string>();
  if (keys.empty() || keys.size() > 20) return std::nullopt;
  for (char key : keys)
    if (!is_key(key)) return std::nullopt;
  return keys;
}

}  // namespace concierge::dtmf
