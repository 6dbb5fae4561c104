#!/usr/bin/env bash
# Installs what scripts/fuzz.sh needs: AFL++ (Debian's afl++: afl-fuzz, afl-tmin) and the
# SharpFuzz instrumentation tool (a local dotnet tool, .config/dotnet-tools.json). Run by .ci/run
# and by the fuzz tests when afl-fuzz is missing; safe to run by hand or twice.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v afl-fuzz >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo -n env DEBIAN_FRONTEND=noninteractive bash -c 'apt-get update -q && apt-get install -y -q --no-install-recommends afl++'
    else
      echo "fuzz-setup: afl-fuzz is missing and this user cannot install it; run 'apt-get install afl++' as root." >&2
      exit 1
    fi
  else
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends afl++
  fi
fi
command -v afl-fuzz >/dev/null
dotnet tool restore >/dev/null
