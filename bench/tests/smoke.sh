#!/usr/bin/env bash
# concierge-bench --smoke against the echo server or a daemon it spawns. Picks a free loopback port; cleans up.
#   smoke.sh echo   <concierge-bench> <concierge-bench-echo-server> [--resample]
#   smoke.sh daemon <concierge-bench> <concierge-host> <bench.yaml> <pcm16_24k|mulaw_8k>
set -euo pipefail
mode=$1 bench=$2
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [[ $mode == echo ]]; then
  "$3" --port 0 ${4:-} > "$work/server.out" &
  server_pid=$!
  for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.05; done
  port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/server.out")
  "$bench" --smoke --no-resampler-figures --url "ws://127.0.0.1:$port/media-stream" --json "$work/result.json"
else
  # Port 0: the daemon binds a free port itself and the bench reads which (no race with parallel tests).
  if ! "$bench" --smoke --no-resampler-figures --spawn-daemon "$3" --config "$4" --echo-format "$5" \
      --url "ws://127.0.0.1:0/media-stream" --json "$work/result.json" --daemon-log "$work/daemon.log"; then
    echo "--- daemon log ---"; tail -50 "$work/daemon.log"; exit 1
  fi
fi
