#!/usr/bin/env bash
# Everything a clean Debian machine needs to build concierge and run its whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600
