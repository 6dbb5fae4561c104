#!/usr/bin/env bash
# Installs Python 3 (standard library only), which the remote reward tests use to run a reward
# server that is not ours (tests/RlhfSharp.Cli.Tests/RemoteReward/reward_server.py). Run by those
# tests when python3 is missing; safe to run by hand or twice.
set -euo pipefail
if command -v python3 >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -n "$0" "$@"
  fi
  echo "python-setup: python3 is missing and this user cannot install it; run 'apt-get install python3' as root." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends python3
command -v python3 >/dev/null
