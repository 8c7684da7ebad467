#pragma once
// Replaces the global operator new (plain, array and nothrow, with their deletes) by one that counts the calls made
// on a thread while that thread has counting on: a fake server on its own thread may allocate, the thread under test
// must not. Include it in ONE source file of a test binary: these are the binary's definitions, and a plugin the test
// loads uses the binary's operator new, so its allocations are counted too.
#include <atomic>
#include <cstdlib>
#include <new>

namespace concierge::testing::counting_new {
inline thread_local bool counting = false;  // per thread: only the counting thread's allocations are counted
inline std::atomic<long> allocations{0};
// Counting on (from zero) or off, on the calling thread.
inline void count(bool on) {
  if (on) allocations = 0;
  counting = on;
}
inline long counted() { return allocations.load(); }
inline void note() {
  if (counting) allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace concierge::testing::counting_new

void* operator new(std::size_t size) {
  concierge::testing::counting_new::note();
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  concierge::testing::counting_new::note();
  return std::malloc(size ? size : 1);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
// GCC sees malloc in the replaced operator new and free in operator delete and warns at every inlined pair, here and
// in the rest of the source file (its unity batch): off from here on, on purpose.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
