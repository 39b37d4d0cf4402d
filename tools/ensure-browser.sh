#!/usr/bin/env bash
# Make sure headless Chromium and its chromedriver are installed, for the browser
# tests (tests/browser/). Installs Debian's chromium and chromium-driver packages
# when they are missing and this runs as root with apt-get; otherwise says why
# not and exits 0, so the browser tests skip with that reason. Never fatal.
set -uo pipefail

have() { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }

if have; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-browser: chromium/chromedriver missing and cannot install them" \
    "(needs root and apt-get); the browser tests will be skipped" >&2
  exit 0
fi
echo "ensure-browser: installing chromium and chromium-driver (Debian packages)..."
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }; then
  echo "ensure-browser: apt-get could not install chromium chromium-driver;" \
    "the browser tests will be skipped" >&2
fi
have && echo "ensure-browser: $(chromium --version 2>/dev/null | head -1)"
exit 0
