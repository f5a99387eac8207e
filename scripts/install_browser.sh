#!/usr/bin/env bash
# Install the headless browser the dashboard's browser test drives: Debian's chromium at /usr/bin/chromium.
#
# Why apt and not `playwright install`: Playwright's own download fetches a browser build from a CDN
# that is not reachable from every machine here, while Debian's package comes from the same mirror as
# everything else. Idempotent: does nothing when /usr/bin/chromium already exists. Uses sudo only when
# not root, so it works in CI containers (root, no sudo) and on laptops alike.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
  echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "error: $CHROMIUM is missing and this script is not root and has no sudo; install the 'chromium' package" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q chromium

if [ ! -x "$CHROMIUM" ]; then
  echo "error: apt-get finished but $CHROMIUM does not exist" >&2
  exit 1
fi
echo "chromium installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
