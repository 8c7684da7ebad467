// Preloaded in front of libfaketime by scripts/test.sh when it runs the date-sensitive tests with the clock moved:
// timerfd_settime goes straight to the kernel.
//
// Why: libfaketime wraps timerfd_settime and, for an absolute expiry (TFD_TIMER_ABSTIME), shifts the time by its
// wall-clock offset, without asking which clock the timer runs on. Asio's epoll reactor runs every timer on one
// CLOCK_MONOTONIC timerfd and, when a timer is already due, arms it at the absolute time 1 ns ("fire now"). Shifted
// 550 days back that is a negative time: the kernel answers EINVAL, the timerfd never fires, and every due timer
// waits for some unrelated wake-up (seen with strace: tests idle for seconds, then fail or pass by luck). With
// FAKETIME_DONT_FAKE_MONOTONIC the monotonic clock is the real one, so the real kernel call is the right answer for
// the only timers the daemon and the tests create: monotonic ones.
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

extern "C" __attribute__((visibility("default"))) int timerfd_settime(int fd, int flags, const itimerspec* new_value,
                                                                      itimerspec* old_value) {
  return static_cast<int>(syscall(SYS_timerfd_settime, fd, flags, new_value, old_value));
}

extern "C" __attribute__((visibility("default"))) int timerfd_gettime(int fd, itimerspec* current) {
  return static_cast<int>(syscall(SYS_timerfd_gettime, fd, current));
}
