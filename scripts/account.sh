#!/bin/sh
# The unprivileged account `netjes serve` drops to when started as root
# ([server] user, default netjes). Idempotent; nothing to do when not
# root (the server then runs as the user who starts it).
set -eu
user="${1:-netjes}"
[ "$(id -u)" = 0 ] || exit 0
getent passwd "$user" >/dev/null 2>&1 && exit 0
echo "account: creating system user $user" >&2
useradd --system --user-group --home-dir /nonexistent --no-create-home \
    --shell /usr/sbin/nologin "$user"
