#!/usr/bin/env bash
# Opt-in smoke test of the openai-live plugin against the REAL GPT-Live service, with your key. Never run by
# scripts/test.sh or ctest (it needs the network, a key with GPT-Live access, and it costs money: about a minute of
# audio). It refuses to run without OPENAI_API_KEY.
#
# What it does: starts concierge-host on loopback with the offline demo's simulated restaurant line
# (config/default.yaml) and the openai-live plugin instead of the scripted voice model, books a table through the CLI,
# and passes when the call got past the voice model: no "voice model:" failure, and GPT-Live reported audio seconds
# (concierge_voice_audio_seconds_total > 0 in /metrics). The simulated restaurant is not a person, so whether the
# booking itself succeeds is printed, not judged.
#
# Usage: OPENAI_API_KEY=sk-... scripts/openai-live-smoke.sh ["request"]
#   OPENAI_LIVE_URL, OPENAI_LIVE_MODEL, LIVE_VOICE as in the plugin's config block (plugins/openai-live/README.md);
#   SMOKE_TIMEOUT_SECONDS (default 240) bounds the whole call. Build first: bash scripts/build.sh
#
# Rehearsal without a key or the network, against the fake GPT-Live server (its scripted restaurant books a table
# for 4 on 2026-11-25, so the agent rightly refuses it and the CLI exits 1; the script still PASSES, as the call got
# through the voice model and usage came back):
#   build/bin/fake-live-server --port 0 --api-key sk-rehearsal &     # prints ws://127.0.0.1:PORT/v1/live/sessions
#   OPENAI_API_KEY=sk-rehearsal OPENAI_LIVE_URL=ws://127.0.0.1:PORT/v1/live/sessions scripts/openai-live-smoke.sh
# Rehearsed so on 2026-12-01: PASSED, 12.4 audio seconds, both tool calls through the delegation.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${OPENAI_API_KEY:-}" ]]; then
  echo "openai-live-smoke: OPENAI_API_KEY is not set; this script talks to the real GPT-Live service with your key" >&2
  echo "  (it is never part of the test suite). Run: OPENAI_API_KEY=sk-... $0" >&2
  exit 2
fi
for f in build/bin/concierge-host build/bin/concierge build/plugins/openai-live.so; do
  [[ -e $f ]] || { echo "openai-live-smoke: $f is missing; build first (bash scripts/build.sh)" >&2; exit 2; }
done
request=${1:-"Book a table at Demo Restaurant for 2 people tomorrow at 7pm"}
timeout_s=${SMOKE_TIMEOUT_SECONDS:-240}

work=$(mktemp -d /tmp/concierge-live-smoke.XXXXXX)
daemon=""
cleanup() {
  if [[ -n $daemon ]]; then kill -TERM "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The demo's configuration with the voice model swapped, by YAML alone (the block between voice_model: and agent:).
awk '
  /^  voice_model:/ { print; print "    plugin: openai-live"; print "    config:";
                      print "      api_key: \"${OPENAI_API_KEY}\"";
                      print "      url: \"${OPENAI_LIVE_URL:-wss://api.openai.com/v1/live/sessions}\"";
                      print "      model: \"${OPENAI_LIVE_MODEL:-gpt-live-1}\"";
                      print "      voice: \"${LIVE_VOICE:-marin}\"";
                      skip = 1; next }
  /^  agent:/ { skip = 0 }
  !skip { print }
' config/default.yaml > "$work/config.yaml"

export CONCIERGE_API_TOKEN
CONCIERGE_API_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
./build/bin/concierge-host --config "$work/config.yaml" --host 127.0.0.1 --port 0 >"$work/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 1 100); do
  grep -q "Application startup complete." "$work/daemon.log" && break
  if ! kill -0 "$daemon" 2>/dev/null; then cat "$work/daemon.log"; echo "openai-live-smoke: the daemon did not start" >&2; exit 1; fi
  sleep 0.1
done
url=$(grep -o 'Listening on http://[0-9.:]*' "$work/daemon.log" | head -n1 | sed 's/Listening on //')
[[ -n $url ]] || { cat "$work/daemon.log"; echo "openai-live-smoke: no listening address in the log" >&2; exit 1; }

echo "\$ concierge --server $url --yes book \"$request\"   (GPT-Live: ${OPENAI_LIVE_URL:-wss://api.openai.com/v1/live/sessions})"
set +e
timeout "$timeout_s" ./build/bin/concierge --server "$url" --token "$CONCIERGE_API_TOKEN" --yes book "$request" \
  | tee "$work/cli.out"
cli_status=${PIPESTATUS[0]}
set -e
metrics=$(curl -sf -H "Authorization: Bearer $CONCIERGE_API_TOKEN" "$url/metrics" || true)
seconds=$(sed -n 's/^concierge_voice_audio_seconds_total \([0-9.]*\)$/\1/p' <<<"$metrics")

echo "--- daemon log (GPT-Live and call lines) ---"
grep -E "GPT-Live|voice model|call " "$work/daemon.log" | tail -40 || true
if [[ $cli_status -eq 124 ]]; then echo "FAILED: no result within $timeout_s s"; exit 1; fi
if grep -q "voice model:" "$work/cli.out" "$work/daemon.log"; then
  echo "FAILED: the voice model failed (the reason above says what to do: key, access, URL)"; exit 1
fi
if [[ -z $seconds ]] || ! awk -v s="$seconds" 'BEGIN { exit !(s > 0) }'; then
  echo "FAILED: GPT-Live reported no audio seconds (concierge_voice_audio_seconds_total: ${seconds:-absent})"; exit 1
fi
echo "PASSED: a call went through GPT-Live ($seconds audio seconds billed); the CLI exited with $cli_status"
