#!/usr/bin/env bash
# The GPT-Live conformance test (ctest live_types_conformance): runs the e2e_live tests with their events recorded,
# then type-checks every client event the plugin sent and every server event the fake sent against openai's
# live.d.ts (check.mjs). usage: run.sh <e2e_live_tests binary> <scratch folder>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="$1"
events="$2"
rm -rf "$events"
mkdir -p "$events"
CONCIERGE_LIVE_EVENTS_DIR="$events" "$binary" --gtest_brief=1
exec node "$here/check.mjs" "$events"
