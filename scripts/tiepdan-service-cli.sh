#!/usr/bin/env bash
# Runs one tiepdan command the way the service runs tiepdan: as the service user, with the
# service's configuration (/etc/tiepdan/tiepdan.env over DATA_DIR=/var/lib/tiepdan), so files it
# creates (a restored DATA_DIR, the embedded PostgreSQL it starts) belong to the service, not root.
#
#   sudo ./scripts/tiepdan-service-cli.sh backup --to /media/usb/tiepdan-backup-2026-12-01
#   sudo ./scripts/tiepdan-service-cli.sh restore /media/usb/tiepdan-backup-2026-12-01
#   sudo ./scripts/tiepdan-service-cli.sh migrate status
#
# Env: TIEPDAN_USER (default tiepdan), TIEPDAN_ENV_FILE (default /etc/tiepdan/tiepdan.env).
# The configuration file is read as systemd reads it for the unit: VARIABLE=value lines, '#'
# comments; write values without quotes. Give absolute paths (it runs in the installation directory,
# like the unit).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
USER_NAME="${TIEPDAN_USER:-tiepdan}"
ENV_FILE="${TIEPDAN_ENV_FILE:-/etc/tiepdan/tiepdan.env}"
[ "$#" -gt 0 ] || { echo "usage: $0 <tiepdan command> [arguments]" >&2; exit 64; }

# The unit's Environment= first, then the file (later assignments win, as in the unit).
vars=(NODE_ENV=production DATA_DIR=/var/lib/tiepdan)
if [ -r "$ENV_FILE" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'* | ';'*) ;; [A-Za-z_]*=*) vars+=("$line") ;; *) echo "$ENV_FILE: ignoring: $line" >&2 ;; esac
  done <"$ENV_FILE"
fi
run=(env -i "PATH=/usr/sbin:/usr/bin:/sbin:/bin" "${vars[@]}" "$ROOT/node_modules/.bin/node" "$ROOT/bin/tiepdan.mjs" "$@")
if [ "$(id -un)" = "$USER_NAME" ]; then exec "${run[@]}"; fi
[ "$(id -u)" = 0 ] || { echo "run as root (sudo) or as $USER_NAME" >&2; exit 77; }
cd "$ROOT" && exec runuser -u "$USER_NAME" -- "${run[@]}"
