#pragma once
// Measurements of a streaming resampler as the media path drives it: 20 ms frames in, whatever is ready out.
// Shared by the SDK's tests (which assert the figures) and concierge-bench (which prints them), so the numbers in
// the test suite and the benchmark report come from the same code. Header-only, cold path: allocates freely.
//
// What is measured, and why:
//  - delay: a caller hears two things as lag. (1) the content lag: output sample j carries the input from time
//    j/out_rate - lag (found by cross-correlating the output with the ideal output of a band-limited pulse train,
//    computed analytically at the output rate, parabolic peak refinement); (2) the buffering: after each frame the
//    resampler has released out_count samples where an instant resampler would have released
//    in_count * out_rate / in_rate; the difference is audio held back until a later frame, i.e. delay for those
//    samples. A resampler that releases output in bursts holds back a lot on average even if its filter is short.
//    total = lag + mean(held back), per direction.
//  - SNR: a 997 Hz sine (not a divisor of any rate, so every code is exercised) against the ideal sine at the output
//    rate, delayed by the phase delay measured on the output itself. Gain error, aliasing, imaging and rounding all
//    count as noise.
//  - suppression: a tone above the output's Nyquist (5 kHz going down to 8 kHz) must not alias into the band
//    (8000 - 5000 = 3 kHz). Reported as input RMS / output RMS (everything that comes out is error).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <span>
#include <vector>

namespace concierge::measure {

// Everything a callable `std::size_t process(std::span<const std::int16_t>, std::span<std::int16_t>)` released, and
// how much had been released after each frame.
struct StreamOutput {
  std::vector<std::int16_t> samples;
  std::vector<std::size_t> released_after_frame;
};

template <class Process>
StreamOutput run_in_frames(Process&& process, std::uint32_t in_rate, std::uint32_t out_rate,
                           const std::vector<std::int16_t>& input) {
  const std::size_t frame = in_rate / 50;
  StreamOutput result;
  // Generous scratch: a measurement must not be limited by the bound it might be checking.
  std::vector<std::int16_t> scratch(frame * out_rate / in_rate * 8 + 8192);
  for (std::size_t at = 0; at + frame <= input.size(); at += frame) {
    const std::size_t n = process(std::span<const std::int16_t>(input.data() + at, frame),
                                  std::span<std::int16_t>(scratch.data(), scratch.size()));
    result.samples.insert(result.samples.end(), scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(n));
    result.released_after_frame.push_back(result.samples.size());
  }
  return result;
}

inline std::int16_t to_pcm(double v) {
  return static_cast<std::int16_t>(std::lround(std::clamp(v, -32768.0, 32767.0)));
}

// A band-limited pulse (Hann-windowed sinc, cutoff `cutoff_hz`) centred at `centre_s`, evaluated at time t: the same
// analytic signal can be sampled at the input and the output rate, so the ideal output is known exactly.
inline double pulse(double t, double centre_s, double cutoff_hz, double half_width_s) {
  const double x = t - centre_s;
  if (std::abs(x) >= half_width_s) return 0.0;
  const double arg = 2.0 * cutoff_hz * x;
  const double sinc = arg == 0.0 ? 1.0 : std::sin(std::numbers::pi * arg) / (std::numbers::pi * arg);
  const double window = 0.5 + 0.5 * std::cos(std::numbers::pi * x / half_width_s);
  return sinc * window;
}

inline double pulse_train(double t) {
  // One pulse every 100 ms from 100 ms on; cutoff 3 kHz keeps it inside every rate's band (8 kHz has 4 kHz).
  const double period = 0.1;
  const double k = std::round(t / period);
  if (k < 1) return 0.0;
  return pulse(t, k * period, 3000.0, 0.004);
}

struct DelayFigures {
  double lag_ms = 0;          // content lag, from cross-correlation
  double mean_held_ms = 0;    // mean audio held back after a frame (buffering)
  double max_held_ms = 0;
  double total_ms = 0;        // lag + mean held back: the delay this direction adds on average
};

template <class Process>
DelayFigures measure_delay(Process&& process, std::uint32_t in_rate, std::uint32_t out_rate, double seconds = 2.0) {
  const double amplitude = 0.8 * 32767.0;
  std::vector<std::int16_t> input(static_cast<std::size_t>(seconds * in_rate));
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = to_pcm(amplitude * pulse_train(double(i) / in_rate));
  const StreamOutput out = run_in_frames(process, in_rate, out_rate, input);

  // Cross-correlate with the ideal output over lags of -5 .. +100 ms (in output samples).
  const long min_lag = -static_cast<long>(out_rate / 200), max_lag = static_cast<long>(out_rate / 10);
  std::vector<double> ideal(out.samples.size());
  for (std::size_t j = 0; j < ideal.size(); ++j) ideal[j] = amplitude * pulse_train(double(j) / out_rate);
  auto correlation = [&](long lag) {
    double sum = 0;
    for (std::size_t j = 0; j < ideal.size(); ++j) {
      const long k = static_cast<long>(j) + lag;
      if (k >= 0 && k < static_cast<long>(out.samples.size())) sum += ideal[j] * out.samples[static_cast<std::size_t>(k)];
    }
    return sum;
  };
  long best = min_lag;
  double best_value = -1e300, before = 0, after = 0;
  std::vector<double> values;
  for (long lag = min_lag; lag <= max_lag; ++lag) values.push_back(correlation(lag));
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i] > best_value) best_value = values[i], best = min_lag + static_cast<long>(i);
  const std::size_t bi = static_cast<std::size_t>(best - min_lag);
  before = bi > 0 ? values[bi - 1] : best_value;
  after = bi + 1 < values.size() ? values[bi + 1] : best_value;
  const double denominator = before - 2 * best_value + after;
  const double fraction = denominator != 0 ? 0.5 * (before - after) / denominator : 0.0;

  DelayFigures figures;
  figures.lag_ms = (best + fraction) * 1000.0 / out_rate;
  const std::size_t frame = in_rate / 50;
  double held_sum = 0;
  std::size_t counted = 0;
  // Skip the first 5 frames (start-up) and average the steady state.
  for (std::size_t k = 5; k < out.released_after_frame.size(); ++k) {
    const double expected = double((k + 1) * frame) * out_rate / in_rate;
    const double held_ms = (expected - double(out.released_after_frame[k])) * 1000.0 / out_rate;
    held_sum += held_ms;
    figures.max_held_ms = std::max(figures.max_held_ms, held_ms);
    ++counted;
  }
  figures.mean_held_ms = counted ? held_sum / counted : 0;
  figures.total_ms = figures.lag_ms + figures.mean_held_ms;
  return figures;
}

// Least-squares fit of c*sin(w t) + s*cos(w t) to `samples` (sampled at `rate`) over [from, to).
struct SineFit {
  double amplitude = 0;
  double phase = 0;  // samples ~ amplitude * sin(w t + phase)
};
inline SineFit fit_sine(std::span<const std::int16_t> samples, std::uint32_t rate, double hz, std::size_t from,
                        std::size_t to) {
  double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
  const double w = 2 * std::numbers::pi * hz / rate;
  for (std::size_t j = from; j < to && j < samples.size(); ++j) {
    const double s = std::sin(w * double(j)), c = std::cos(w * double(j));
    ss += s * s, cc += c * c, sc += s * c, ys += samples[j] * s, yc += samples[j] * c;
  }
  const double det = ss * cc - sc * sc;
  const double a = (ys * cc - yc * sc) / det;  // coefficient of sin
  const double b = (yc * ss - ys * sc) / det;  // coefficient of cos
  return {std::hypot(a, b), std::atan2(b, a)};
}

struct SineFigures {
  double snr_db = 0;
  double phase_delay_ms = 0;  // the delay compensated before comparing
  double gain_db = 0;         // output amplitude / input amplitude
};

// One-way SNR of a `hz` sine at `amplitude` (of full scale) through the resampler.
template <class Process>
SineFigures measure_sine(Process&& process, std::uint32_t in_rate, std::uint32_t out_rate, double hz = 997.0,
                         double amplitude = 0.9, double seconds = 2.0) {
  const double a = amplitude * 32767.0;
  const double w_in = 2 * std::numbers::pi * hz / in_rate;
  std::vector<std::int16_t> input(static_cast<std::size_t>(seconds * in_rate));
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = to_pcm(a * std::sin(w_in * double(i)));
  const StreamOutput out = run_in_frames(process, in_rate, out_rate, input);
  // Steady state only: skip 100 ms of start-up, stop 100 ms before the end of what came out.
  const std::size_t from = out_rate / 10;
  const std::size_t to = out.samples.size() > from + out_rate / 10 ? out.samples.size() - out_rate / 10 : from;
  const SineFit fit = fit_sine(out.samples, out_rate, hz, from, to);
  // Output ~ sin(w (t - d)): phase = -w d, d taken in [0, period) minus a period when that is nearer zero.
  double delay_s = -fit.phase / (2 * std::numbers::pi * hz);
  const double period = 1.0 / hz;
  delay_s = std::fmod(std::fmod(delay_s, period) + period, period);
  if (delay_s > period / 2) delay_s -= period;
  SineFigures figures;
  figures.phase_delay_ms = delay_s * 1000.0;
  figures.gain_db = 20 * std::log10(fit.amplitude / a);
  const double w_out = 2 * std::numbers::pi * hz / out_rate;
  double signal = 0, noise = 0;
  for (std::size_t j = from; j < to; ++j) {
    // The ideal sine at the output rate with the input's amplitude: gain errors count against the SNR.
    const double ideal = a * std::sin(w_out * double(j) - 2 * std::numbers::pi * hz * delay_s);
    signal += ideal * ideal;
    noise += (out.samples[j] - ideal) * (out.samples[j] - ideal);
  }
  figures.snr_db = 10 * std::log10(signal / std::max(noise, 1e-12));
  return figures;
}

// How far a `hz` tone above the output's Nyquist is suppressed: input RMS over output RMS, in dB.
template <class Process>
double measure_suppression(Process&& process, std::uint32_t in_rate, std::uint32_t out_rate, double hz = 5000.0,
                           double amplitude = 0.9, double seconds = 2.0) {
  const double a = amplitude * 32767.0;
  const double w_in = 2 * std::numbers::pi * hz / in_rate;
  std::vector<std::int16_t> input(static_cast<std::size_t>(seconds * in_rate));
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = to_pcm(a * std::sin(w_in * double(i)));
  const StreamOutput out = run_in_frames(process, in_rate, out_rate, input);
  const std::size_t from = out_rate / 10;
  const std::size_t to = out.samples.size() > from + out_rate / 10 ? out.samples.size() - out_rate / 10 : from;
  double power = 0;
  for (std::size_t j = from; j < to; ++j) power += double(out.samples[j]) * out.samples[j];
  power /= double(std::max<std::size_t>(to - from, 1));
  const double input_power = a * a / 2;
  // A silent output (all zeros) is perfect suppression; cap it at the 16-bit floor of half an LSB.
  return 10 * std::log10(input_power / std::max(power, 0.25));
}

}  // namespace concierge::measure
