#!/usr/bin/env bash
# concierge-bench --smoke against the echo server or a daemon it spawns. Picks a free loopback port; cleans up.
#   smoke.sh echo   <concierge-bench> <concierge-bench-echo-server> [--resample]
#   smoke.sh daemon <concierge-bench> <concierge-host> <bench.yaml> <pcm16_24k|mulaw_8k>
#   smoke.sh openai <concierge-bench> <concierge-host> <bench-openai.yaml> <fake-openai-server>
#     (the openai-realtime plugin against the fake Realtime server in echo mode, which picks its own port)
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
elif [[ $mode == openai ]]; then
  "$5" --echo --port 0 --api-key sk-bench-key > "$work/fake.out" 2> "$work/fake.err" &
  fake_pid=$!
  for _ in $(seq 100); do grep -q '^ws://' "$work/fake.out" 2>/dev/null && break; sleep 0.05; done
  # First line: ws://127.0.0.1:<port>/v1/realtime; the daemon (spawned by the bench) inherits FAKE_OPENAI_PORT.
  FAKE_OPENAI_PORT=$(sed -n '1s|^ws://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/fake.out")
  export FAKE_OPENAI_PORT FAKE_OPENAI_API_KEY=sk-bench-key
  if ! "$bench" --smoke --no-resampler-figures --spawn-daemon "$3" --config "$4" --echo-format mulaw_8k \
      --url "ws://127.0.0.1:0/media-stream" --json "$work/result.json" --daemon-log "$work/daemon.log"; then
    echo "--- daemon log ---"; tail -50 "$work/daemon.log"; echo "--- fake server ---"; cat "$work/fake.err"; exit 1
  fi
else
  # Port 0: the daemon binds a free port itself and the bench reads which (no race with parallel tests).
  if ! "$bench" --smoke --no-resampler-figures --spawn-daemon "$3" --config "$4" --echo-format "$5" \
      --url "ws://127.0.0.1:0/media-stream" --json "$work/result.json" --daemon-log "$work/daemon.log"; then
    echo "--- daemon log ---"; tail -50 "$work/daemon.log"; exit 1
  fi
fi
