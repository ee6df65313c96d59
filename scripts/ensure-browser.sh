#!/usr/bin/env bash
# Make sure the browser tests (tests/console/test_browser.py) have Debian's headless Chromium at
# /usr/bin/chromium. When it is there this only says so; otherwise it installs the `chromium`
# package with apt (one `apt-get update` first, retried while another apt holds the lock).
# Playwright drives this binary (executable_path); `playwright install` is never run and no
# browser is downloaded from anywhere else.
set -euo pipefail

readonly CHROMIUM=/usr/bin/chromium
readonly LOCK_RETRIES=30

say() { echo "ensure-browser: $*"; }
die() {
    echo "ensure-browser: $*" >&2
    exit 1
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root to run: $*"
    fi
}

apt() {
    # Another process may hold the dpkg/apt lock for a while: wait for it, bounded.
    local attempt
    for attempt in $(seq 1 "$LOCK_RETRIES"); do
        if as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=20 "$@"; then
            return 0
        fi
        say "apt-get $1 failed (attempt $attempt of $LOCK_RETRIES), retrying"
        sleep 5
    done
    die "apt-get $* kept failing"
}

if [ -x "$CHROMIUM" ]; then
    say "chromium is installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi
command -v apt-get >/dev/null 2>&1 || die "no $CHROMIUM and no apt-get: install Chromium by hand"
say "installing Debian's chromium"
apt update -qq
apt install -y -qq --no-install-recommends chromium
[ -x "$CHROMIUM" ] || die "apt installed chromium but $CHROMIUM is missing"
say "chromium is installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
