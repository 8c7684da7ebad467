#include "concierge/speech/speech_signal.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <numbers>

namespace concierge::sim {
namespace {

// One piece of an utterance: a syllable (voiced, with a vowel colour) or a pause.
struct Segment {
  double seconds = 0;
  bool voiced = false;
  int vowel = 0;  // index into kFormants
};

// First and second formants of five vowels (Peterson & Barney averages, rounded): they give the harmonics a
// speech-like spectral envelope that changes from syllable to syllable.
constexpr std::array<std::array<double, 2>, 5> kFormants{{{730, 1090}, {270, 2290}, {530, 1840}, {570, 840}, {300, 870}}};
constexpr int kMaxHarmonics = 16;
constexpr std::size_t kTableSize = 1024;  // entries per period: linear interpolation error below -90 dB
constexpr double kWordGapSeconds = 0.06;
constexpr double kCommaPauseSeconds = 0.15;
// Kept below the 400 ms an energy VAD waits before it calls speech stopped, so one utterance stays one segment.
constexpr double kSentencePauseSeconds = 0.25;

bool is_vowel(char c) {
  switch (std::tolower(static_cast<unsigned char>(c))) {
    case 'a': case 'e': case 'i': case 'o': case 'u': case 'y': return true;
    default: return false;
  }
}

int syllables_in(std::string_view word) {
  int count = 0;
  bool in_vowel_group = false;
  bool any_letter = false;
  for (char c : word) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      ++count;  // a digit is read as a word of about one syllable ("four", "six"; "seven" is close enough)
      in_vowel_group = false;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      any_letter = true;
      const bool vowel = is_vowel(c);
      if (vowel && !in_vowel_group) ++count;
      in_vowel_group = vowel;
    }
  }
  if (any_letter && count == 0) count = 1;  // "R", "Mr", "hmm"
  return count;
}

// A small deterministic hash so each word gets its own vowel colours without any randomness.
std::uint64_t hash_text(std::string_view text) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

template <typename Visit>
void for_each_segment(std::string_view text, const SpeechVoice& voice, Visit&& visit) {
  // About 1.45 syllables per English word in conversation, so this keeps the configured words per minute.
  const double syllable_seconds = 60.0 / (std::max(voice.words_per_minute, 40.0) * 1.45) - kWordGapSeconds / 1.45;
  bool first_word = true;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && !std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    if (start == pos) break;
    const std::string_view word = text.substr(start, pos - start);
    const int syllables = syllables_in(word);
    if (syllables == 0) continue;  // a lone dash or other punctuation
    if (!first_word) visit(Segment{kWordGapSeconds, false, 0});
    first_word = false;
    std::uint64_t h = hash_text(word);
    for (int i = 0; i < syllables; ++i) {
      visit(Segment{syllable_seconds, true, static_cast<int>(h % kFormants.size())});
      h = h / kFormants.size() + 0x9e3779b97f4a7c15ull * (i + 1);
    }
    const char last = word.back();
    if (last == ',' || last == ';' || last == ':') visit(Segment{kCommaPauseSeconds, false, 0});
    if (last == '.' || last == '?' || last == '!') visit(Segment{kSentencePauseSeconds, false, 0});
  }
}

}  // namespace

std::chrono::microseconds speech_duration(std::string_view text, const SpeechVoice& voice) {
  double seconds = 0;
  for_each_segment(text, voice, [&](const Segment& s) { seconds += s.seconds; });
  return std::chrono::microseconds(static_cast<long long>(seconds * 1e6));
}

void render_speech(std::string_view text, const SpeechVoice& voice, std::uint32_t sample_rate,
                   std::vector<std::int16_t>& out) {
  const double fs = sample_rate;
  const double total_seconds = static_cast<double>(speech_duration(text, voice).count()) / 1e6;
  const int harmonics = std::clamp(static_cast<int>(std::min(3400.0, 0.45 * fs) / voice.pitch_hz), 1, kMaxHarmonics);
  double phase = 0;    // of the fundamental, in table entries (0..kTableSize)
  double elapsed = 0;  // seconds into the utterance, drives the pitch contour
  std::array<double, kMaxHarmonics> weights{};
  std::array<double, kTableSize + 1> period{};  // one period of the current syllable, plus a guard entry
  std::array<std::pair<double, double>, kTableSize> unit_circle{};
  for (std::size_t i = 0; i < kTableSize; ++i) {
    const double angle = 2 * std::numbers::pi * static_cast<double>(i) / kTableSize;
    unit_circle[i] = {std::cos(angle), std::sin(angle)};
  }

  for_each_segment(text, voice, [&](const Segment& segment) {
    const auto samples = static_cast<std::size_t>(segment.seconds * fs);
    if (!segment.voiced) {
      out.insert(out.end(), samples, 0);
      elapsed += samples / fs;
      return;
    }
    // Harmonic amplitudes from the vowel's formants, normalised so the peak stays at voice.level.
    double sum = 0;
    for (int k = 1; k <= harmonics; ++k) {
      const double f = k * voice.pitch_hz;
      const auto [f1, f2] = kFormants[segment.vowel];
      const double w = 1.0 / (1.0 + std::pow((f - f1) / 160.0, 2)) + 0.5 / (1.0 + std::pow((f - f2) / 260.0, 2)) +
                       0.12 / k;
      weights[k - 1] = w;
      sum += w;
    }
    for (int k = 0; k < harmonics; ++k) weights[k] *= voice.level * 32767.0 / sum;

    // One period of this syllable's waveform, built once: every sample of the syllable is then a table look-up
    // at the running phase. Pitch and envelope move slowly, so they are computed once per 4 ms block (a control
    // rate, as synthesisers do). No transcendental function runs per sample: a 7 s utterance at 24 kHz renders in
    // about a millisecond, which matters because it runs on the event loop.
    for (std::size_t i = 0; i <= kTableSize; ++i) {
      const double c = unit_circle[i % kTableSize].first, s = unit_circle[i % kTableSize].second;
      double ck = c, sk = s, value = 0;
      for (int k = 0; k < harmonics; ++k) {
        value += weights[k] * sk;
        const double next_c = ck * c - sk * s;
        sk = sk * c + ck * s;
        ck = next_c;
      }
      period[i] = value;
    }
    const std::size_t block = std::max<std::size_t>(1, static_cast<std::size_t>(fs / 250));
    for (std::size_t start = 0; start < samples; start += block) {
      const std::size_t end = std::min(samples, start + block);
      const double x = (start + 0.5 * (end - start)) / samples;  // position in the syllable, 0..1
      // Rises and falls like a syllable nucleus, dipping (not to zero) at the edges where consonants would be.
      const double envelope = 0.12 + 0.88 * std::pow(std::sin(std::numbers::pi * x), 0.7);
      // Intonation: a slow wobble and a falling line across the utterance (declination).
      const double f0 = voice.pitch_hz * (1.0 + 0.06 * std::sin(2 * std::numbers::pi * 2.7 * elapsed)) *
                        (1.0 - 0.12 * elapsed / std::max(total_seconds, 0.1));
      const double step = f0 / fs * kTableSize;  // table entries per sample
      for (std::size_t n = start; n < end; ++n) {
        const auto index = static_cast<std::size_t>(phase);
        const double frac = phase - static_cast<double>(index);
        const double value = period[index] + frac * (period[index + 1] - period[index]);
        out.push_back(static_cast<std::int16_t>(std::clamp(value * envelope, -32767.0, 32767.0)));
        phase += step;
        if (phase >= kTableSize) phase -= kTableSize;
      }
      elapsed += static_cast<double>(end - start) / fs;
    }
  });
}

void render_comfort_noise(std::uint64_t seed, std::span<std::int16_t> out) {
  std::uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (auto& sample : out) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    // Uniform in [-28, 28]: about 16 RMS, -66 dBFS.
    sample = static_cast<std::int16_t>(static_cast<int>((state >> 33) % 57) - 28);
  }
}

}  // namespace concierge::sim
