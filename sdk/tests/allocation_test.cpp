// Steady-state per-frame work allocates nothing. This binary replaces the global operator new/delete AND malloc,
// calloc, realloc (the executable's definitions interpose on glibc's for every library, so libsoxr's C allocations
// are counted too) and counts calls made while counting is switched on.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "concierge/base64.hpp"
#include "concierge/dtmf.hpp"
#include "concierge/mulaw.hpp"
#include "concierge/resampler.hpp"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);
}

namespace {
std::atomic<bool> counting{false};
std::atomic<long> malloc_calls{0};
std::atomic<long> new_calls{0};
}  // namespace

extern "C" void* malloc(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
extern "C" void* calloc(std::size_t count, std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(count, size);
}
extern "C" void* realloc(void* pointer, std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(pointer, size);
}
extern "C" void free(void* pointer) { __libc_free(pointer); }

void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) new_calls.fetch_add(1, std::memory_order_relaxed);
  if (void* p = __libc_malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* pointer) noexcept { __libc_free(pointer); }
void operator delete[](void* pointer) noexcept { __libc_free(pointer); }
void operator delete(void* pointer, std::size_t) noexcept { __libc_free(pointer); }
void operator delete[](void* pointer, std::size_t) noexcept { __libc_free(pointer); }

namespace {

struct Counted {
  long mallocs = 0;
  long news = 0;
};

template <class Work>
Counted count_allocations(Work&& work) {
  malloc_calls = 0;
  new_calls = 0;
  counting = true;
  work();
  counting = false;
  return {malloc_calls.load(), new_calls.load()};
}

TEST(Allocation, CounterWorks) {
  // The counter must see an allocation where there is one, or the zeros below would prove nothing.
  const auto counted = count_allocations([] {
    auto* p = new std::vector<int>(100);
    delete p;
    void* raw = std::malloc(10);
    std::free(raw);
  });
  EXPECT_EQ(counted.news, 2);     // the vector object and its storage
  EXPECT_EQ(counted.mallocs, 1);  // std::malloc (operator new goes to glibc directly and is counted once, above)
}

TEST(Allocation, SteadyStateMediaPathAllocatesNothing) {
  // One call's full duplex, as the host's media path runs it: Twilio base64 mu-law in -> PCM -> 24 kHz to the voice
  // model; 24 kHz from the voice model -> 8 kHz -> mu-law -> base64 out. Buffers are made once, at call set-up.
  concierge::Resampler up(8000, 24000), down(24000, 8000), up16(8000, 16000), down16(16000, 8000);
  std::vector<std::uint8_t> mulaw_in(160), mulaw_out(160), decoded(160);
  std::vector<std::int16_t> pcm8(160), pcm8_back(down.max_output(480));
  std::vector<std::int16_t> pcm24(up.max_output(160)), model_out(480);
  std::vector<std::int16_t> pcm16(up16.max_output(160)), pcm8_from16(down16.max_output(up16.max_output(160)));
  std::vector<char> text(concierge::base64::encoded_size(160));
  for (std::size_t i = 0; i < mulaw_in.size(); ++i) mulaw_in[i] = static_cast<std::uint8_t>(i * 7);
  const std::string wire = concierge::base64::encode(mulaw_in);

  std::size_t sink = 0;
  auto frame = [&](int k) {
    const auto n = concierge::base64::decode(wire, decoded);
    sink += n.value_or(0);
    concierge::mulaw::decode(decoded, pcm8);
    const std::size_t got = up.process(pcm8, pcm24);
    for (std::size_t i = 0; i < model_out.size(); ++i)
      model_out[i] = static_cast<std::int16_t>((i < got ? pcm24[i] : 0) + k);
    const std::size_t back = down.process(model_out, pcm8_back);
    const std::size_t got16 = up16.process(pcm8, pcm16);
    sink += down16.process(std::span<const std::int16_t>(pcm16.data(), got16), pcm8_from16);
    concierge::mulaw::encode(std::span<const std::int16_t>(pcm8_back.data(), std::min<std::size_t>(back, 160)),
                             mulaw_out);
    sink += concierge::base64::encode(mulaw_out, text);
  };
  for (int k = 0; k < 100; ++k) frame(k);  // warm-up: the filters' FIFOs reach their working size
  const auto counted = count_allocations([&] {
    for (int k = 0; k < 1000; ++k) frame(k);  // 20 s of audio
  });
  EXPECT_EQ(counted.mallocs, 0);
  EXPECT_EQ(counted.news, 0);
  EXPECT_GT(sink, 0u);
}

TEST(Allocation, KeypadTonesAllocateNothingPerFrame) {
  // Pressing keys, playing them and hearing them: per 20 ms frame, as a call's media path runs them.
  concierge::dtmf::Generator generator(8000);
  concierge::dtmf::Detector detector(8000);
  std::vector<std::int16_t> frame(160);
  std::size_t heard = 0;
  const auto counted = count_allocations([&] {
    for (int k = 0; k < 1000; ++k) {
      if (!generator.busy()) generator.press("0123456789*#ABCD");
      generator.generate(frame);
      heard += detector.process(frame).size();
    }
  });
  EXPECT_EQ(counted.mallocs, 0);
  EXPECT_EQ(counted.news, 0);
  EXPECT_GT(heard, 50u);  // the work was real: 20 s of presses were heard
}

}  // namespace
