#!/usr/bin/env bash
# Make sure the browser tests (tests/console/test_browser.py) have Debian's headless Chromium at
# /usr/bin/chromium. When it is there this only says so; otherwise it installs the `chromium`
# package with apt (one `apt-get update` first, retried while another apt holds the lock).
# Playwright drives this binary (executable_path); `playwright install` is never run and no
# browser is downloaded from anywhere else.
set -euo pipefail

readonly CHROMIUM=/usr/bin/chromium
SCRIPT_NAME=ensure-browser
# shellcheck source=scripts/lib-apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-apt.sh"

if [ -x "$CHROMIUM" ]; then
    say "chromium is installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi
command -v apt-get >/dev/null 2>&1 || die "no $CHROMIUM and no apt-get: install Chromium by hand"
apt_install --no-install-recommends chromium
[ -x "$CHROMIUM" ] || die "apt installed chromium but $CHROMIUM is missing"
say "chromium is installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
