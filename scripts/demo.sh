#!/usr/bin/env bash
# The offline demo, end to end: build, start the daemon on the built-in default config (a simulated restaurant, a
# scripted voice model, no keys, no network), book a table through the CLI, print the result, stop the daemon.
# Usage: scripts/demo.sh ["your request"]
set -euo pipefail
cd "$(dirname "$0")/.."
request=${1:-"Book a table at Demo Restaurant for 4 people tomorrow at 7pm"}
bash scripts/build.sh

log=$(mktemp /tmp/concierge-demo.XXXXXX.log)
./build/bin/concierge-host --host 127.0.0.1 --port 0 >"$log" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 100); do
  grep -q "Application startup complete." "$log" && break
  if ! kill -0 $daemon 2>/dev/null; then cat "$log"; echo "the daemon did not start" >&2; exit 1; fi
  sleep 0.1
done
sed 's/^/  daemon | /' "$log"
url=$(grep -o 'Listening on http://[0-9.:]*' "$log" | head -n1 | sed 's/Listening on //')
echo
echo "\$ concierge --server $url --yes book \"$request\""
./build/bin/concierge --server "$url" --yes book "$request"
