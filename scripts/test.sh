#!/usr/bin/env bash
# Everything a clean Debian machine needs to build concierge and run its whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# The fuzz targets (clang-14, their own build in build-fuzz/, about 210 CPU-seconds) build beside the two test passes
# below, at the lowest CPU priority: the tests mostly wait on sockets and timers and leave the cores well short of
# busy, and at nice 19 the compiler only takes what they leave (a runnable test thread outweighs it ~70 to 1), so the
# tests run as they would on a machine with a build of someone else's going. The fuzzing itself waits for the tests.
mkdir -p build-fuzz
fuzz_build_log=build-fuzz/build.log
# set -m for this one job: it gets a process group of its own, so a failed test pass stops the whole build (cmake,
# ninja, clang) on the way out.
set -m
nice -n 19 bash scripts/fuzz.sh --build-only >"$fuzz_build_log" 2>&1 &
fuzz_build=$!
set +m
trap 'kill -- -"$fuzz_build" 2>/dev/null || true' EXIT
cd build
# Twice as many tests as cores at once: most tests wait on sockets and timers (a suite run at one per core kept the
# two cores about half busy), and every test waits for events with generous deadlines rather than for fixed times.
jobs=$(( $(nproc) * 2 ))
ctest --output-on-failure -j "$jobs" --timeout 600

# The date-sensitive tests (label "date") once more with the clock 550 days ahead: a test that books a fixed date
# or reads the machine's date where it should pin "today" fails here now, not on some later day. Only the wall
# clock moves: FAKETIME_DONT_FAKE_MONOTONIC keeps steady_clock real, or every timed wait would hang.
faketime_library=$(find /usr/lib -path '*/faketime/libfaketime.so.1' -print -quit)
if [ -z "$faketime_library" ]; then
  echo "test.sh: libfaketime.so.1 not found (scripts/setup.sh installs Debian's faketime)" >&2
  exit 1
fi
echo "test.sh: the date-sensitive tests again, with the clock moved 550 days ahead"
# tests/support/monotonic_timerfd.cpp first: libfaketime would shift Asio's monotonic timer deadlines too.
LD_PRELOAD="$PWD/lib/libconcierge-monotonic-timerfd.so:$faketime_library" FAKETIME="+550d" FAKETIME_DONT_FAKE_MONOTONIC=1 \
  ctest --output-on-failure -j "$jobs" --timeout 600 -L '^date$'
cd ..
if ! wait "$fuzz_build"; then
  echo "test.sh: the fuzz targets did not build; the end of $fuzz_build_log:" >&2
  tail -n 60 "$fuzz_build_log" >&2
  exit 1
fi
trap - EXIT
# Coverage-guided fuzzing of the parsers of outside bytes (clang-14, its own build in build-fuzz/): 1 minute, so the
# whole command stays within its 20 minutes on 2 cores (longer on demand: scripts/fuzz.sh 1h).
bash scripts/fuzz.sh 60s
