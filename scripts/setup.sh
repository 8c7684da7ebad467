#!/usr/bin/env bash
# Installs what concierge needs to build, test and benchmark, from Debian's packages only.
# clang-14 and libfuzzer-14-dev: the fuzz targets (tests/fuzz, scripts/fuzz.sh); the daemon itself builds with GCC.
# nodejs and npm (Debian's, unless the machine already has node and npm): the GPT-Live conformance test, which type-checks
# the e2e runs' events with the npm packages `openai` and `typescript` (tests/conformance/live/package.json, installed
# below; only their types and the compiler are used).
# Idempotent and quiet: when everything is present it prints nothing and touches nothing.
#
# Boost: we pin Debian 12's default, 1.74 (libboost-dev). The 1.81 dev packages conflict with it, and other
# Debian packages (python3-scipy, ...) depend on the default; choosing the default never evicts them.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  libboost-dev libboost-filesystem-dev
  libyaml-cpp-dev nlohmann-json3-dev
  libcurl4-openssl-dev libssl-dev openssl
  libsox-dev libsoxr-dev
  libsqlite3-dev
  libphonenumber-dev
  libgtest-dev libgmock-dev
  libphonenumber-dev libhowardhinnant-date-dev tzdata
  gnuplot-nox
  faketime
  clang-14 libfuzzer-14-dev
  sox multimon-ng espeak-ng
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi

# The npm packages of the conformance test, pinned in its package.json, installed next to it (git ignores them).
install_conformance_packages() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/conformance/live"
  if [ ! -f "$dir/node_modules/openai/resources/live/live.d.ts" ] || [ ! -x "$dir/node_modules/.bin/tsc" ]; then
    echo "setup: installing the npm packages openai and typescript into $dir"
    (cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
  fi
}
if [ ${#missing[@]} -eq 0 ]; then
  install_conformance_packages
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "setup: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# A machine that has Boost 1.81's dev packages must let them go: they conflict with 1.74's.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_conformance_packages
