// Keypad tones: the generator measured against ITU-T Q.23 (frequencies, levels, durations, clean edges), heard by our
// detector through the mu-law line under noise, level and twist changes, decoded by an independent decoder
// (multimon-ng), and the detector's talk-off: speech (espeak-ng) and music give no false digits.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <iterator>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "concierge/beep_detector.hpp"
#include "concierge/dtmf.hpp"
#include "concierge/mulaw.hpp"

namespace concierge::dtmf {
namespace {

using namespace std::chrono_literals;
constexpr std::string_view kAllKeys = "0123456789*#ABCD";

std::vector<std::int16_t> generate(std::string_view keys, ToneSettings settings = {}, std::uint32_t rate = 8000,
                                   std::size_t trailing = 800) {
  Generator g(rate, settings);
  g.press(keys);
  std::vector<std::int16_t> out;
  std::array<std::int16_t, 160> frame{};
  while (g.busy()) {
    g.generate(frame);
    out.insert(out.end(), frame.begin(), frame.end());
  }
  out.resize(out.size() + trailing, 0);
  return out;
}

// What the callee's side of a G.711 line carries: every sample through mu-law and back.
std::vector<std::int16_t> through_mulaw(const std::vector<std::int16_t>& pcm) {
  std::vector<std::uint8_t> coded(pcm.size());
  mulaw::encode(pcm, coded);
  std::vector<std::int16_t> out(pcm.size());
  mulaw::decode(coded, out);
  return out;
}

std::string detect(const std::vector<std::int16_t>& pcm, std::uint32_t rate = 8000) {
  Detector d(rate);
  std::string keys;
  const std::size_t frame = rate / 50;
  for (std::size_t i = 0; i < pcm.size(); i += frame)
    keys += d.process(std::span<const std::int16_t>(pcm.data() + i, std::min(frame, pcm.size() - i)));
  return keys;
}

// Mean power at exactly `hz` over `pcm` (a plain DFT bin at an arbitrary frequency), as a sine's A^2/2.
double power_at(std::span<const std::int16_t> pcm, double hz, std::uint32_t rate) {
  double re = 0, im = 0;
  for (std::size_t n = 0; n < pcm.size(); ++n) {
    const double w = 2 * std::numbers::pi * hz * static_cast<double>(n) / rate;
    re += pcm[n] * std::cos(w);
    im -= pcm[n] * std::sin(w);
  }
  return 2 * (re * re + im * im) / (static_cast<double>(pcm.size()) * pcm.size());
}

double dbm0(double power) { return 10 * std::log10(power / (kZeroDbm0Peak * kZeroDbm0Peak / 2)); }

TEST(Dtmf, TheKeypadIsQ23s) {
  EXPECT_EQ(frequencies('1').low_hz, 697);
  EXPECT_EQ(frequencies('1').high_hz, 1209);
  EXPECT_EQ(frequencies('5').low_hz, 770);
  EXPECT_EQ(frequencies('5').high_hz, 1336);
  EXPECT_EQ(frequencies('9').low_hz, 852);
  EXPECT_EQ(frequencies('9').high_hz, 1477);
  EXPECT_EQ(frequencies('0').low_hz, 941);
  EXPECT_EQ(frequencies('0').high_hz, 1336);
  EXPECT_EQ(frequencies('*').high_hz, 1209);
  EXPECT_EQ(frequencies('#').high_hz, 1477);
  EXPECT_EQ(frequencies('D').high_hz, 1633);
  for (char c : kAllKeys) EXPECT_TRUE(is_key(c)) << c;
  for (char c : std::string_view("xE -+\0", 6)) EXPECT_FALSE(is_key(c)) << int(c);
  EXPECT_THROW(frequencies('x'), std::invalid_argument);
}

TEST(DtmfGenerator, EachKeyIsTwoTonesAtQ23sFrequenciesAndLevels) {
  for (char key : kAllKeys) {
    const auto pcm = through_mulaw(generate(std::string(1, key)));
    // The steady middle of the 80 ms tone (after the 4 ms ramp), 60 ms.
    const std::span<const std::int16_t> steady(pcm.data() + 80, 480);
    // Find each group's peak on a 1 Hz grid: within 1.5% of the nominal frequency (Q.23), here within 2 Hz.
    auto peak = [&](double from, double to) {
      double best = 0, best_hz = 0;
      for (double hz = from; hz <= to; hz += 1) {
        const double p = power_at(steady, hz, 8000);
        if (p > best) best = p, best_hz = hz;
      }
      return best_hz;
    };
    const auto f = frequencies(key);
    const double low = peak(650, 1000), high = peak(1150, 1700);
    EXPECT_NEAR(low, f.low_hz, 2.0) << key;
    EXPECT_NEAR(high, f.high_hz, 2.0) << key;
    EXPECT_LE(std::abs(low - f.low_hz) / f.low_hz, 0.015);
    const double low_dbm0 = dbm0(power_at(steady, f.low_hz, 8000));
    const double high_dbm0 = dbm0(power_at(steady, f.high_hz, 8000));
    EXPECT_NEAR(low_dbm0, -9.0, 0.5) << key;
    EXPECT_NEAR(high_dbm0, -7.0, 0.5) << key;
    EXPECT_NEAR(high_dbm0 - low_dbm0, 2.0, 0.5) << key;  // the high group about 2 dB above the low
  }
}

TEST(DtmfGenerator, TonesAndGapsLastWhatTheSettingsSayWithCleanEdges) {
  ToneSettings settings;
  settings.tone = 90ms;
  settings.gap = 100ms;
  Generator g(8000, settings);
  g.press("12");
  EXPECT_TRUE(g.busy());
  EXPECT_EQ(g.remaining(), 380ms);
  std::vector<std::int16_t> pcm(8000);
  EXPECT_EQ(g.generate(pcm), 2u * (720 + 800));  // two presses of 90 + 100 ms at 8 kHz, then zeros
  EXPECT_FALSE(g.busy());
  // Where the signal is: 0-720 and 1520-2240, nothing else.
  auto loud = [&](std::size_t from, std::size_t to) {
    int peak = 0;
    for (std::size_t i = from; i < to; ++i) peak = std::max(peak, std::abs(int(pcm[i])));
    return peak;
  };
  EXPECT_GT(loud(40, 680), 10000);
  EXPECT_EQ(loud(720, 1520), 0);
  EXPECT_GT(loud(1560, 2200), 10000);
  EXPECT_EQ(loud(2240, 8000), 0);
  // No click: it starts from silence, and no step anywhere (edges included) is steeper than the steady tone's.
  EXPECT_EQ(pcm[0], 0);
  EXPECT_LT(std::abs(pcm[719]), 300);
  int steady_step = 0, any_step = 0;
  for (std::size_t i = 1; i < pcm.size(); ++i) {
    const int step = std::abs(pcm[i] - pcm[i - 1]);
    any_step = std::max(any_step, step);
    if ((i > 40 && i < 680) || (i > 1560 && i < 2200)) steady_step = std::max(steady_step, step);
  }
  EXPECT_LE(any_step, steady_step);
}

TEST(DtmfGenerator, RefusesWhatIsNoKeyAndClears) {
  Generator g(8000);
  EXPECT_THROW(g.press("12x"), std::invalid_argument);
  EXPECT_FALSE(g.busy());  // nothing queued from a refused call
  EXPECT_THROW(g.press(std::string(Generator::kMaxQueued + 1, '1')), std::invalid_argument);
  g.press("123");
  std::array<std::int16_t, 160> frame{};
  g.generate(frame);
  g.clear();
  EXPECT_FALSE(g.busy());
  EXPECT_EQ(g.generate(frame), 0u);
  for (auto s : frame) EXPECT_EQ(s, 0);
  EXPECT_THROW(Generator(4000), std::invalid_argument);
}

TEST(DtmfDetector, HearsEveryKeyThroughTheMulawLine) {
  EXPECT_EQ(detect(through_mulaw(generate(kAllKeys))), kAllKeys);
  EXPECT_EQ(detect(through_mulaw(generate("1111"))), "1111");  // the gap separates equal presses
  // Other rates: the same keys at 16 and 24 kHz.
  for (std::uint32_t rate : {16000u, 24000u}) EXPECT_EQ(detect(generate("59#", {}, rate), rate), "59#") << rate;
}

TEST(DtmfDetector, HoldsUnderNoiseLevelAndTwistChanges) {
  std::mt19937 rng(42);
  for (double level : {-25.0, -15.0, -7.0, -3.0}) {
    for (double twist : {-6.0, 0.0, 2.0, 3.5}) {  // high minus low, dB
      ToneSettings s;
      s.low_dbm0 = level - (twist > 0 ? twist : 0);
      s.high_dbm0 = level + (twist < 0 ? twist : 0);
      auto pcm = generate("0123456789*#ABCD", s);
      // White noise 20 dB below the weaker tone.
      const double weaker = kZeroDbm0Peak * std::pow(10.0, std::min(s.low_dbm0, s.high_dbm0) / 20) / std::sqrt(2.0);
      std::normal_distribution<double> noise(0, weaker / 10);
      for (auto& x : pcm) x = static_cast<std::int16_t>(std::clamp(x + noise(rng), -32768.0, 32767.0));
      EXPECT_EQ(detect(through_mulaw(pcm)), kAllKeys) << "level " << level << " twist " << twist;
    }
  }
}

TEST(DtmfDetector, RefusesWhatIsNoKeyPress) {
  // Too short (25 ms), too quiet (-40 dBm0 per tone), too much twist (high group 12 dB down).
  ToneSettings short_tone;
  short_tone.tone = 25ms;
  short_tone.ramp = 2ms;
  EXPECT_EQ(detect(through_mulaw(generate("123", short_tone))), "");
  ToneSettings quiet;
  quiet.low_dbm0 = quiet.high_dbm0 = -40;
  EXPECT_EQ(detect(through_mulaw(generate("123", quiet))), "");
  ToneSettings twisted;
  twisted.low_dbm0 = -5;
  twisted.high_dbm0 = -17;
  EXPECT_EQ(detect(through_mulaw(generate("123", twisted))), "");
  // One tone alone (697 Hz, the row of "1") is no key.
  std::vector<std::int16_t> single(4000);
  for (std::size_t n = 0; n < single.size(); ++n)
    single[n] = static_cast<std::int16_t>(10000 * std::sin(2 * std::numbers::pi * 697 * n / 8000.0));
  EXPECT_EQ(detect(single), "");
  EXPECT_THROW(Detector(8000).process(std::vector<std::int16_t>(8001)), std::length_error);
}

// ---- independent tools (installed by scripts/setup.sh; a missing tool fails the test, it is not skipped) --------

std::filesystem::path scratch(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("concierge-dtmf-" + std::to_string(::getpid()) + "-" + name);
}

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
  const int status = pclose(pipe);
  if (status != 0) out += "\n(exit status " + std::to_string(status) + ")";
  return out;
}

void write_raw(const std::filesystem::path& path, const std::vector<std::int16_t>& pcm) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(pcm.data()), static_cast<std::streamsize>(pcm.size() * 2));
}

std::vector<std::int16_t> read_raw(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::int16_t> pcm(bytes.size() / 2);
  std::memcpy(pcm.data(), bytes.data(), pcm.size() * 2);
  return pcm;
}

TEST(DtmfTools, MultimonNgDecodesWhatTheGeneratorPlays) {
  const auto line = scratch("line.raw"), resampled = scratch("22050.raw");
  write_raw(line, through_mulaw(generate(kAllKeys)));
  // multimon-ng reads signed 16-bit raw at 22,050 Hz.
  const std::string sox = run("sox -t raw -r 8000 -e signed -b 16 -c 1 " + line.string() + " -t raw -r 22050 -e signed -b 16 -c 1 " +
                              resampled.string());
  ASSERT_TRUE(std::filesystem::exists(resampled)) << "sox (scripts/setup.sh installs it): " << sox;
  const std::string decoded = run("multimon-ng -q -t raw -a DTMF " + resampled.string());
  std::string keys;
  for (std::size_t at = decoded.find("DTMF: "); at != std::string::npos; at = decoded.find("DTMF: ", at + 1))
    keys += decoded[at + 6];
  EXPECT_EQ(keys, kAllKeys) << "multimon-ng (scripts/setup.sh installs it) said:\n" << decoded;
  std::filesystem::remove(line);
  std::filesystem::remove(resampled);
}

// ---- the voicemail beep detector (concierge/beep_detector.hpp), against the same speech and keypad tones --------

std::vector<std::int16_t> sine(double hz, double seconds, double amplitude = 8000, std::uint32_t rate = 8000) {
  std::vector<std::int16_t> out(static_cast<std::size_t>(seconds * rate));
  for (std::size_t n = 0; n < out.size(); ++n)
    out[n] = static_cast<std::int16_t>(amplitude * std::sin(2 * std::numbers::pi * hz * n / rate));
  return out;
}

// Beeps heard, fed in 20 ms frames as the media path does.
int beeps_in(const std::vector<std::int16_t>& pcm, std::uint32_t rate = 8000, double* hz = nullptr) {
  beep::Detector detector(rate);
  int beeps = 0;
  const std::size_t frame = rate / 50;
  for (std::size_t at = 0; at + frame <= pcm.size(); at += frame)
    if (detector.process(std::span<const std::int16_t>(pcm.data() + at, frame))) ++beeps;
  if (hz) *hz = detector.last_beep_hz();
  return beeps;
}

TEST(BeepDetector, HearsAVoicemailBeepOnceThroughTheLine) {
  for (double hz : {440.0, 1000.0, 1400.0, 1425.0, 2100.0}) {
    std::vector<std::int16_t> pcm(8000, 0);  // a second of silence, the beep, silence
    const auto tone = sine(hz, 0.5, 6000);
    pcm.insert(pcm.end(), tone.begin(), tone.end());
    pcm.resize(pcm.size() + 4000, 0);
    double heard_hz = 0;
    EXPECT_EQ(beeps_in(through_mulaw(pcm), 8000, &heard_hz), 1) << hz;
    EXPECT_NEAR(heard_hz, hz, 50) << hz;
  }
  // Under line noise and at 16 kHz too; quiet but audible (-30 dBm0 is about amplitude 1000).
  std::mt19937 random(7);
  std::normal_distribution<double> noise(0, 150);
  auto noisy = sine(1000, 0.4, 1200);
  for (auto& v : noisy) v = static_cast<std::int16_t>(v + noise(random));
  EXPECT_EQ(beeps_in(through_mulaw(noisy)), 1);
  EXPECT_EQ(beeps_in(sine(1000, 0.4, 6000, 16000), 16000), 1);
}

TEST(BeepDetector, RefusesShortTonesKeypadTonesSilenceAndNoise) {
  EXPECT_EQ(beeps_in(sine(1000, 0.12)), 0);            // 120 ms: a chirp, not a beep
  EXPECT_EQ(beeps_in(through_mulaw(generate("5"))), 0);  // two tones at once: a key press
  EXPECT_EQ(beeps_in(std::vector<std::int16_t>(16000, 0)), 0);
  std::mt19937 random(3);
  std::normal_distribution<double> noise(0, 3000);
  std::vector<std::int16_t> hiss(16000);
  for (auto& v : hiss) v = static_cast<std::int16_t>(noise(random));
  EXPECT_EQ(beeps_in(hiss), 0);
  EXPECT_EQ(beeps_in(sine(1000, 1.0, 30)), 0);  // far below -35 dBm0
  EXPECT_THROW(beep::Detector(4000), std::invalid_argument);
}

TEST(DtmfTools, SpeechGivesNoFalseDigits) {
  // Speech full of the words that trip detectors (digits, "pound", "star"), men's and women's voices.
  const std::string text =
      "Thank you for calling Demo Restaurant. For reservations, press one. For hours and directions, press two. "
      "To speak with the host, press zero or stay on the line. Your confirmation number is four eight one three. "
      "Please say or enter your phone number followed by the pound key. Press star to go back.";
  std::size_t samples = 0;
  for (const char* voice : {"en-us", "en-us+f3", "en+m3", "en-gb+f2"}) {
    const auto wav = scratch(std::string("speech-") + voice + ".wav"), raw = scratch("speech.raw");
    const std::string spoken = run("espeak-ng -v " + std::string(voice) + " -w " + wav.string() + " \"" + text + "\"");
    ASSERT_TRUE(std::filesystem::exists(wav)) << "espeak-ng (scripts/setup.sh installs it): " << spoken;
    run("sox " + wav.string() + " -r 8000 -e signed -b 16 -c 1 -t raw " + raw.string());
    const auto pcm = through_mulaw(read_raw(raw));
    ASSERT_GT(pcm.size(), 8000u * 5) << voice;
    samples += pcm.size();
    EXPECT_EQ(detect(pcm), "") << voice;
    EXPECT_EQ(beeps_in(pcm), 0) << voice << ": speech taken for a voicemail beep";
    std::filesystem::remove(wav);
    std::filesystem::remove(raw);
  }
  std::printf("talk-off: %.1f s of speech, no digit\n", samples / 8000.0);
}

TEST(DtmfTools, MusicGivesNoFalseDigits) {
  // sox's plucked strings and a synthesised melody of harmonic-rich notes walking through the DTMF bands
  // (F5 = 698 Hz sits on the 697 Hz row, D#6 = 1245 Hz near the 1209 Hz column), with chords of two notes.
  const auto raw = scratch("music.raw");
  const std::string made =
      run("sox -n -r 8000 -e signed -b 16 -c 1 -t raw " + raw.string() +
          " synth 0.3 pluck C5 : synth 0.3 pluck E5 : synth 0.3 pluck F5 : synth 0.3 pluck G5 : synth 0.3 pluck D6 :"
          " synth 0.3 pluck D#6 : synth 0.3 pluck E6 : synth 0.6 pluck F5 : synth 0.3 square A5 : synth 0.3 sawtooth F5");
  ASSERT_TRUE(std::filesystem::exists(raw)) << "sox: " << made;
  auto pcm = read_raw(raw);
  std::filesystem::remove(raw);
  // Two-note chords from C5 to C7, each note with harmonics falling as 1/k (a bright, organ-like timbre).
  for (int semitone = 0; semitone < 24; ++semitone) {
    const double a = 523.25 * std::pow(2.0, semitone / 12.0), b = a * std::pow(2.0, (3 + semitone % 5) / 12.0);
    for (std::size_t n = 0; n < 2400; ++n) {
      double v = 0;
      for (int k = 1; k <= 6; ++k)
        v += (std::sin(2 * std::numbers::pi * a * k * n / 8000.0) + std::sin(2 * std::numbers::pi * b * k * n / 8000.0)) / k;
      pcm.push_back(static_cast<std::int16_t>(3000 * v));
    }
  }
  EXPECT_EQ(detect(through_mulaw(pcm)), "");
  std::printf("talk-off: %.1f s of music, no digit\n", pcm.size() / 8000.0);
}

}  // namespace
}  // namespace concierge::dtmf
