#!/usr/bin/env bash
# concierge-bench --smoke against the echo server or a daemon it spawns. Picks a free loopback port; cleans up.
#   smoke.sh echo   <concierge-bench> <concierge-bench-echo-server> [--resample]
#   smoke.sh daemon <concierge-bench> <concierge-host> <bench.yaml> <pcm16/24000|mulaw/8000>
#   smoke.sh openai <concierge-bench> <concierge-host> <bench-openai.yaml> <fake-openai-server>
#     (the openai-realtime plugin against the fake Realtime server in echo mode, which concierge-bench --fake-openai
#     starts on a port the fake picks itself, hands to the daemon and stops; with bench-openai-live.yaml and
#     fake-live-server, the openai-live plugin against the fake GPT-Live server the same way)
#   smoke.sh openai-errors <concierge-bench> <concierge-host> <bench-openai.yaml> <fake-openai-server>
#     (--fake-openai's failures: each a clear error, and no fake left running)
#   smoke.sh find-limit <concierge-bench> <concierge-bench-echo-server>
#     (--find-limit against the echo server: with a bar every level clears it doubles up to --max-calls; with one
#     none can clear it says so; speed is never asserted)
set -euo pipefail
mode=$1 bench=$2
work=$(mktemp -d)
server_pid=""
fake_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ -n "$fake_pid" ]]; then kill "$fake_pid" 2>/dev/null || true; wait "$fake_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [[ $mode == echo ]]; then
  "$3" --port 0 ${4:-} > "$work/server.out" &
  server_pid=$!
  for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.05; done
  port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/server.out")
  "$bench" --smoke --no-resampler-figures --url "ws://127.0.0.1:$port/media-stream" --json "$work/result.json"
elif [[ $mode == find-limit ]]; then
  "$3" --port 0 > "$work/server.out" &
  server_pid=$!
  for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.05; done
  port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/server.out")
  common=(--no-resampler-figures --url "ws://127.0.0.1:$port/media-stream" --calls 3 --find-limit --max-calls 12
          --duration 1 --pause 0.3)
  # A 10 s p99 bar: every level holds (a level failing it would also fail the smoke runs), so the search doubles
  # 3 -> 6 -> 12 and stops at --max-calls.
  "$bench" "${common[@]}" --hold-p99-ms 10000 --json "$work/all.json" > "$work/all.out"
  grep -q "find-limit: trying 6 calls" "$work/all.out" || { cat "$work/all.out"; echo "FAILED: no probe at 6"; exit 1; }
  grep -q "find-limit: trying 12 calls" "$work/all.out" || { cat "$work/all.out"; echo "FAILED: no probe at 12"; exit 1; }
  grep -q "largest N that holds .*: 12$" "$work/all.out" || { cat "$work/all.out"; echo "FAILED: not 12"; exit 1; }
  tr -d ' \n' < "$work/all.json" | grep -q '"largest_holding":{"calls":12,' || { echo "FAILED: JSON"; exit 1; }
  rows=$(awk '$1 ~ /^[0-9]+$/ && NF > 15 { printf "%s ", $1 }' "$work/all.out")
  [[ $rows == "3 6 12 " ]] || { cat "$work/all.out"; echo "FAILED: table rows '$rows', not 3 6 12"; exit 1; }
  # A bar no round trip can clear (1 ns): nothing holds, no search above the failed level.
  "$bench" "${common[@]}" --hold-p99-ms 0.000001 --json "$work/none.json" > "$work/none.out"
  grep -q "largest N that holds .*: none$" "$work/none.out" || { cat "$work/none.out"; echo "FAILED: not none"; exit 1; }
  if grep -q "find-limit: trying" "$work/none.out"; then cat "$work/none.out"; echo "FAILED: searched"; exit 1; fi
  echo "find-limit: doubles to --max-calls when every level holds, says none when none can"
elif [[ $mode == openai ]]; then
  # A FAKE_OPENAI_PORT / FAKE_OPENAI_API_KEY already in the environment must not reach the daemon: the bench sets
  # the fake's own.
  if ! FAKE_OPENAI_PORT=9 FAKE_OPENAI_API_KEY=sk-not-the-fakes "$bench" --smoke --no-resampler-figures \
      --spawn-daemon "$3" --config "$4" --fake-openai "$5" --echo-format mulaw/8000 \
      --url "ws://127.0.0.1:0/media-stream" --json "$work/result.json" --daemon-log "$work/daemon.log" \
      | tee "$work/bench.out"; then
    echo "--- daemon log ---"; tail -50 "$work/daemon.log"
    echo "--- fake server ---"; cat "$work/concierge-bench-fake-openai.log"; exit 1
  fi
  fake=$(sed -n 's/^fake-openai-server ws:.* (pid \([0-9]*\),.*/\1/p' "$work/bench.out")
  [[ -n "$fake" ]] || { echo "FAILED: the bench did not report the fake's pid"; exit 1; }
  if kill -0 "$fake" 2>/dev/null; then echo "FAILED: fake-openai-server (pid $fake) still runs"; exit 1; fi
  # The fake's summary on SIGTERM: the daemon's plugin opened a session per call (the smoke places 2).
  sessions=$(sed -n 's/^fake-[a-z]*-server: \([0-9]*\) sessions.*/\1/p' "$work/concierge-bench-fake-openai.log")
  if [[ -z "$sessions" || "$sessions" -lt 2 ]]; then
    echo "FAILED: the fake saw ${sessions:-no} sessions"; cat "$work/concierge-bench-fake-openai.log"; exit 1
  fi
elif [[ $mode == openai-errors ]]; then
  host=$3 config=$4 fake_server=$5
  fail() { echo "FAILED: $*"; for f in "$work"/*.err "$work"/*.log; do [[ -f $f ]] && { echo "--- $f"; cat "$f"; }; done; exit 1; }
  expect_exit() {  # expect_exit CODE NAME ARGS...: runs the bench, its stderr to $work/NAME.err
    local code=$1 name=$2; shift 2
    local status=0
    "$bench" --no-resampler-figures "$@" > "$work/$name.out" 2> "$work/$name.err" || status=$?
    [[ $status == "$code" ]] || fail "$name: exit status $status, expected $code"
  }
  not_running() { local pid; pid=$(cat "$1"); if kill -0 "$pid" 2>/dev/null; then kill "$pid"; fail "$2: pid $pid left running"; fi; }

  # Without --spawn-daemon there is no daemon to hand the fake to: a usage error, nothing started.
  expect_exit 2 usage --fake-openai "$fake_server" --url ws://127.0.0.1:1/media-stream
  grep -q -- '--fake-openai needs --spawn-daemon' "$work/usage.err" || fail "usage: no message"

  # A fake that exits at once: its exit status and its own words, the log named, the daemon never started.
  printf '#!/bin/sh\necho "fake: cannot bind its port" >&2\nexit 3\n' > "$work/dies.sh"; chmod +x "$work/dies.sh"
  expect_exit 1 dies --spawn-daemon "$host" --config "$config" --fake-openai "$work/dies.sh" \
      --url ws://127.0.0.1:0/media-stream --daemon-log "$work/dies-daemon.log" --fake-openai-log "$work/dies-fake.log"
  grep -q 'exited during start-up, exit status 3' "$work/dies.err" || fail "dies: no exit status"
  grep -q "$work/dies-fake.log" "$work/dies.err" || fail "dies: the log is not named"
  grep -q 'cannot bind its port' "$work/dies.err" || fail "dies: the fake's words are not quoted"
  [[ ! -e "$work/dies-daemon.log" ]] || fail "dies: the daemon was started anyway"

  # A path that cannot be run.
  expect_exit 1 missing --spawn-daemon "$host" --config "$config" --fake-openai "$work/no-such-fake" \
      --url ws://127.0.0.1:0/media-stream --daemon-log "$work/missing-daemon.log"
  grep -q "cannot run $work/no-such-fake" "$work/missing.err" || fail "missing: no reason given"

  # Something else where the URL belongs: refused, and the process (still running) is stopped.
  printf '#!/bin/sh\necho $$ > "%s"\necho "listening somewhere"\nexec sleep 300\n' "$work/wrong.pid" > "$work/wrong.sh"
  chmod +x "$work/wrong.sh"
  expect_exit 1 wrong --spawn-daemon "$host" --config "$config" --fake-openai "$work/wrong.sh" \
      --url ws://127.0.0.1:0/media-stream --daemon-log "$work/wrong-daemon.log"
  grep -q '"listening somewhere" where its ws://' "$work/wrong.err" || fail "wrong: no message"
  not_running "$work/wrong.pid" wrong

  # The real fake, then a daemon that cannot start (no such config): the fake is stopped on that error path too.
  printf '#!/bin/sh\necho $$ > "%s"\nexec "%s" "$@"\n' "$work/real.pid" "$fake_server" > "$work/real.sh"
  chmod +x "$work/real.sh"
  expect_exit 1 nodaemon --spawn-daemon "$host" --config "$work/no-such-config.yaml" --fake-openai "$work/real.sh" \
      --url ws://127.0.0.1:0/media-stream --daemon-log "$work/nodaemon-daemon.log" \
      --fake-openai-log "$work/nodaemon-fake.log"
  grep -q 'the daemon exited during start-up' "$work/nodaemon.err" || fail "nodaemon: not the daemon's failure"
  not_running "$work/real.pid" nodaemon
  grep -q '^fake-openai-server: 0 sessions' "$work/nodaemon-fake.log" || fail "nodaemon: the fake was not stopped cleanly"
  echo "openai-errors: all failures reported, no fake left running"
else
  # Port 0: the daemon binds a free port itself and the bench reads which (no race with parallel tests).
  if ! "$bench" --smoke --no-resampler-figures --spawn-daemon "$3" --config "$4" --echo-format "$5" \
      --url "ws://127.0.0.1:0/media-stream" --json "$work/result.json" --daemon-log "$work/daemon.log"; then
    echo "--- daemon log ---"; tail -50 "$work/daemon.log"; exit 1
  fi
fi
