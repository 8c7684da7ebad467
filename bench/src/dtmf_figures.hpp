#pragma once
// What the SDK's keypad tones cost per 20 ms frame on the 8 kHz line: the generator while it plays and the detector
// listening (each, one instance hot in cache and 1,000 taken in turn as a daemon with 1,000 calls does), and the state
// each keeps inline (neither allocates after construction).
#include <cstddef>

namespace concierge::bench {

struct DtmfFigures {
  double generator_us_hot = 0, generator_us_1000 = 0;
  double detector_us_hot = 0, detector_us_1000 = 0;
  std::size_t generator_bytes = 0, detector_bytes = 0;
  // The voicemail beep detector (concierge/beep_detector.hpp) hearing a steady tone: its worst case, every block
  // loud enough for its Goertzel bank to run.
  double beep_us_hot = 0, beep_us_1000 = 0;
  std::size_t beep_bytes = 0;
};

DtmfFigures measure_dtmf_figures();

}  // namespace concierge::bench
