#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer, in build-sanitize/: every library,
# plugin, daemon and test built with -fsanitize=address,undefined, any finding fatal (the daemons the tests start
# included: a report ends the process and fails its test). The two allocation-counting tests replace malloc and are
# left out. Not part of CI: the build takes ~17 min on the 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S . -B build-sanitize "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DCONCIERGE_SANITIZE=address,undefined >/dev/null
cmake --build build-sanitize -j "$(nproc)"
cd build-sanitize
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --output-on-failure -j "$(nproc)" --timeout 900
