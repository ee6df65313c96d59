# shellcheck shell=bash
# Helpers shared by the scripts/ensure-*.sh scripts: messages, root, and apt-get.
# Source it after setting SCRIPT_NAME (the prefix of the messages):
#     SCRIPT_NAME=ensure-browser
#     source "$(dirname "${BASH_SOURCE[0]}")/lib-apt.sh"

APT_LOCK_RETRIES=${APT_LOCK_RETRIES:-30}
apt_updated=0

say() { echo "${SCRIPT_NAME:-script}: $*"; }
die() {
    echo "${SCRIPT_NAME:-script}: $*" >&2
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

# apt-get "$@" as root, non-interactive. Another process may hold the dpkg/apt lock for a
# while: wait for it, bounded (APT_LOCK_RETRIES tries, 5 s apart).
apt_get() {
    local attempt
    for attempt in $(seq 1 "$APT_LOCK_RETRIES"); do
        if as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=20 "$@"; then
            return 0
        fi
        say "apt-get $1 failed (attempt $attempt of $APT_LOCK_RETRIES), retrying"
        sleep 5
    done
    die "apt-get $* kept failing"
}

# Install packages (and apt-get options such as --no-install-recommends): one `apt-get update`
# per run first.
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "no apt-get: install $* by hand"
    if [ "$apt_updated" -eq 0 ]; then
        apt_get update -q
        apt_updated=1
    fi
    say "installing $*"
    apt_get install -y -q "$@"
}
