#!/usr/bin/env bash
# Installs what the browser tests drive: Debian's chromium (headless, no sandbox needed as root).
# Run by the browser tests themselves when /usr/bin/chromium is missing, so `dotnet test` works on
# a fresh Debian machine; safe to run by hand or twice.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -n "$0" "$@"
  fi
  echo "browser-setup: /usr/bin/chromium is missing and this user cannot install it; run 'apt-get install chromium' as root." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium
test -x /usr/bin/chromium
