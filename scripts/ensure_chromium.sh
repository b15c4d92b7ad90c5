#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (tests/test_map_browser.py) when it is missing.
# Playwright drives this system browser; `playwright install` (a download) is never used.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "ensure_chromium: /usr/bin/chromium is missing; installing Debian's chromium with apt-get" >&2
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium
test -x /usr/bin/chromium
