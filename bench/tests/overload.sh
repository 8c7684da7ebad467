#!/usr/bin/env bash
# The daemon over its limit refuses new calls with 503 and says so in /metrics; under it, it does not.
#   overload.sh <concierge-host> <bench.yaml>
# Deterministic: "over the limit" is made certain with a threshold of 100 ns of event-loop lag (a 10 ms timer always
# runs later than that), then with a busy share of 0.01% and lag off (the loop's own 10 ms tick costs more than
# 1 us), and "under" with the defaults (50 ms, 90%) on an idle daemon.
set -euo pipefail
host=$1 config=$2
work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
# The control API and /metrics need the daemon's token: this one, given to the daemon through its environment.
export CONCIERGE_API_TOKEN="overload-test-token-$$"
auth=(-H "Authorization: Bearer $CONCIERGE_API_TOKEN")
fail() { echo "FAILED: $*"; echo "--- daemon log ---"; tail -20 "$work/daemon.log"; exit 1; }

start_daemon() {  # $1: BENCH_OVERLOAD_LAG_MS, $2: BENCH_OVERLOAD_BUSY (default 0.9)
  BENCH_OVERLOAD_LAG_MS=$1 BENCH_OVERLOAD_BUSY=${2:-0.9} ECHO_FORMAT=mulaw/8000 "$host" --config "$config" --port 0 --log-level INFO \
    > "$work/daemon.log" 2>&1 &
  pid=$!
  port=""
  for _ in $(seq 300); do
    port=$(sed -n 's|.*Listening on http://[^:]*:\([0-9]*\).*|\1|p' "$work/daemon.log" | head -1)
    [[ -n "$port" ]] && break
    sleep 0.05
  done
  [[ -n "$port" ]] || fail "the daemon did not start"
  base="http://127.0.0.1:$port"
}
stop_daemon() { kill "$pid"; wait "$pid" || true; pid=""; }

post_call() {  # prints the status; the body goes to $work/body
  curl -s -o "$work/body" -w '%{http_code}' -X POST "$base/calls" "${auth[@]}" -H 'Content-Type: application/json' \
    -d '{"request": "Book a table at Demo Restaurant for 4 people tomorrow at 7pm under the name Alex Morgan"}'
}
upgrade() {  # a WebSocket upgrade to /media-stream (unsigned: the Twilio plugin itself would answer 403)
  curl -s -o "$work/upgrade" -w '%{http_code}' --max-time 5 "$base/media-stream" -H 'Connection: Upgrade' \
    -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' || true
}
metric() { curl -s "${auth[@]}" "$base/metrics" | awk -v name="$1" '$1 == name { print $2 }'; }

# Over the limit.
start_daemon 0.0001
for _ in $(seq 100); do [[ "$(metric concierge_overloaded)" == 1 ]] && break; sleep 0.02; done
[[ "$(metric concierge_overloaded)" == 1 ]] || fail "concierge_overloaded is not 1 with a 100 ns threshold"
status=$(post_call)
[[ $status == 503 ]] || fail "POST /calls answered $status, not 503"
grep -q '"error":"the daemon is overloaded' "$work/body" || fail "503 body: $(cat "$work/body")"
status=$(upgrade)
[[ $status == 503 ]] || fail "the media-stream upgrade answered $status, not 503"
grep -q overloaded "$work/upgrade" || fail "upgrade refusal body: $(cat "$work/upgrade")"
refused=$(metric concierge_calls_refused_overload_total)
[[ $refused == 2 ]] || fail "concierge_calls_refused_overload_total is $refused, not 2"
lag_count=$(metric concierge_event_loop_lag_milliseconds_count)
[[ ${lag_count:-0} -gt 0 ]] || fail "no event loop lag observed"
grep -q "Overloaded: the event loop" "$work/daemon.log" || fail "no overload warning in the log"
stop_daemon

# Over the busy limit, lag off.
start_daemon 0 0.0001
for _ in $(seq 200); do [[ "$(metric concierge_overloaded)" == 1 ]] && break; sleep 0.02; done
[[ "$(metric concierge_overloaded)" == 1 ]] || fail "concierge_overloaded is not 1 with a 0.01% busy limit"
busy=$(metric concierge_event_loop_busy_ratio)
awk -v b="$busy" 'BEGIN { exit !(b > 0.0001 && b < 0.5) }' || fail "concierge_event_loop_busy_ratio $busy on an idle daemon"
status=$(post_call)
[[ $status == 503 ]] || fail "POST /calls answered $status, not 503, over the busy limit"
grep -q '% busy and' "$work/body" || fail "503 body does not give the busy share: $(cat "$work/body")"
stop_daemon

# Under it: the same requests get the normal answers.
start_daemon 50
sleep 1.5  # over a second of idle ticks: the busy share has settled near 0
[[ "$(metric concierge_overloaded)" == 0 ]] || fail "concierge_overloaded is not 0 on an idle daemon"
status=$(post_call)
[[ $status == 201 ]] || fail "POST /calls on an idle daemon answered $status: $(cat "$work/body")"
status=$(upgrade)
[[ $status == 403 ]] || fail "the unsigned upgrade on an idle daemon answered $status, not the plugin's 403"
[[ "$(metric concierge_calls_refused_overload_total)" == 0 ]] || fail "refusals counted on an idle daemon"
echo "overload: 503s while over the limit, normal answers under it"
