#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser that reads bytes from outside (tests/fuzz/README.md lists them).
#   scripts/fuzz.sh            the short run the test command makes (about 1 minute in all)
#   scripts/fuzz.sh 1h         longer: the duration (s, m or h) is split evenly across the targets
#   scripts/fuzz.sh 10m webhook_fuzz    one target
#   scripts/fuzz.sh --build-only        build every target, run none (scripts/test.sh builds them beside its tests)
# Builds with clang-14 into build-fuzz/ (separate from the GCC build in build/). Each target starts from its
# committed seeds (tests/fuzz/corpus/<target>/) plus what earlier runs found (build-fuzz/corpus/<target>/, not
# committed). A crash stops the run with the input saved as build-fuzz/findings/<target>/crash-*; it becomes a
# regression test (a seed here and a unit test of the parser) once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=false
if [ "${1:-}" = --build-only ]; then
  build_only=true
  shift
fi
duration="${1:-60s}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(twilio_media_message_fuzz realtime_events_fuzz webhook_fuzz api_request_fuzz
                                      config_fuzz reservation_fuzz)

seconds_of() {
  local d="$1"
  case "$d" in
    *h) echo $(( ${d%h} * 3600 )) ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *s) echo "${d%s}" ;;
    *) echo "$d" ;;
  esac
}
total=$(seconds_of "$duration")
per_target=$(( total / ${#targets[@]} ))
[ "$per_target" -lt 1 ] && per_target=1

bash scripts/setup.sh
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
if [ ! -f build-fuzz/CMakeCache.txt ]; then
  cmake -S tests/fuzz -B build-fuzz "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
fi
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]}"
$build_only && exit 0

failed=()
for target in "${targets[@]}"; do
  seeds="tests/fuzz/corpus/$target"
  corpus="build-fuzz/corpus/$target"
  findings="build-fuzz/findings/$target"
  mkdir -p "$corpus" "$findings"
  echo "fuzz: $target for ${per_target}s"
  # -max_len: big enough for a whole webhook or config; -rss_limit_mb: a leak or blow-up is a finding too.
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "build-fuzz/$target" "$corpus" "$seeds" -max_total_time="$per_target" -max_len=8192 -rss_limit_mb=2048 \
      -timeout=10 -artifact_prefix="$findings/" -print_final_stats=1 >"build-fuzz/$target.log" 2>&1; then
    failed+=("$target")
    echo "fuzz: $target FAILED; the last lines of build-fuzz/$target.log:" >&2
    tail -n 40 "build-fuzz/$target.log" >&2
    ls "$findings" >&2 || true
  else
    grep -E "stat::number_of_executed_units|cov: " "build-fuzz/$target.log" | tail -n 2 | sed "s/^/fuzz:   /"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no findings"
