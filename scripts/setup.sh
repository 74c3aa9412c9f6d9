#!/usr/bin/env bash
# tiepdan set-up: installs what is missing, then (optionally) starts the server or runs the tests.
#
#   ./scripts/setup.sh start    install, then start the server on the embedded defaults
#   ./scripts/setup.sh test     install, then run the whole test suite
#   ./scripts/setup.sh service  install, then install the systemd service (user tiepdan,
#                               DATA_DIR=/var/lib/tiepdan, config /etc/tiepdan/tiepdan.env)
#   ./scripts/setup.sh          install only
#
# Works offline: it needs only a Debian 12 package mirror and an npm registry. Idempotent: a
# second run checks and returns in seconds. Run as root (or with sudo) so it can apt-get install.
#
# Env: TIEPDAN_WORKER=auto|prebuilt|build   how to get the mediasoup worker when MEDIASOUP_WORKER_BIN
#      is unset (auto: the prebuilt download when GitHub answers, else the offline build)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ACTION="${1:-install}"
WORKER_MODE="${TIEPDAN_WORKER:-auto}"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

case "$ACTION" in install | start | test | service) ;; *) die "usage: $0 [install|start|test|service]" ;; esac
[ -r /etc/debian_version ] || echo "setup: warning: not Debian; package names assume Debian 12" >&2

# --- Debian packages ----------------------------------------------------------------------------
# ffmpeg (recorder), xorriso (disc images), chromium (PDF invitations; the browser tests),
# coturn (the embedded TURN server), iptables + iproute2 (the network-conditions suite),
# firefox-esr (the pages are tested in both browsers communes use), poppler-utils (the tests render the
# printed PDFs to PNG to be looked at), systemd (systemd-analyze checks the generated service unit,
# also on machines where systemd is not PID 1).
PKGS=(ca-certificates ffmpeg xorriso chromium coturn iptables iproute2 firefox-esr poppler-utils systemd)
command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
command -v npm >/dev/null 2>&1 || PKGS+=(npm)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  [ "$(id -u)" = 0 ] || die "run as root (or: sudo apt-get install ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
  step "Debian packages present"
fi

# --- npm packages (brings Node.js 24 as node_modules/.bin/node) ---------------------------------
step "npm install"
# MEDIASOUP_WORKER_BIN during install stops mediasoup's postinstall from trying GitHub and then
# pip (minutes of failure offline); the worker is provided below.
MEDIASOUP_WORKER_BIN="${MEDIASOUP_WORKER_BIN:-skip-during-install}" \
  npm install --no-audit --no-fund --loglevel=error
NODE_BIN="$ROOT/node_modules/.bin/node"
[ -x "$NODE_BIN" ] || die "node_modules/.bin/node missing: the 'node' npm package did not install"
"$NODE_BIN" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' \
  || die "node_modules/.bin/node is $("$NODE_BIN" --version), need >= 22"
echo "Node.js for tiepdan: $("$NODE_BIN" --version) (system: $(node --version 2>/dev/null || echo none))"

# --- mediasoup worker: MEDIASOUP_WORKER_BIN, else prebuilt download, else offline build -------------
step "mediasoup worker"
PACKAGED="$ROOT/node_modules/mediasoup/worker/out/Release/mediasoup-worker"
PREBUILT_MARK="$ROOT/node_modules/mediasoup/worker/out/.tiepdan-prebuilt"
if [ -n "${MEDIASOUP_WORKER_BIN:-}" ]; then
  [ -x "$MEDIASOUP_WORKER_BIN" ] || die "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not executable"
  echo "using MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN"
elif [ -x "$PACKAGED" ] && [ -f "$PREBUILT_MARK" ]; then
  echo "prebuilt worker present"
else
  got=""
  if [ "$WORKER_MODE" != build ] && { [ "$WORKER_MODE" = prebuilt ] || timeout 5 bash -c '</dev/tcp/github.com/443' 2>/dev/null; }; then
    echo "GitHub reachable: downloading mediasoup's prebuilt worker"
    if (cd node_modules/mediasoup && timeout 600 "$NODE_BIN" npm-scripts.mjs postinstall) && [ -x "$PACKAGED" ]; then
      touch "$PREBUILT_MARK"
      got=yes
    else
      echo "prebuilt download failed"
    fi
  else
    echo "no route to GitHub: building the worker offline from mediasoup's sources and Debian packages"
  fi
  if [ -z "$got" ]; then
    [ "$WORKER_MODE" = prebuilt ] && die "prebuilt worker download failed (TIEPDAN_WORKER=prebuilt)"
    "$ROOT/scripts/build-mediasoup-worker.sh"
  fi
fi

# A worker taken from the cache (or MEDIASOUP_WORKER_BIN) was linked on a machine that had the
# build's -dev packages; here only their runtime libraries are needed. Checked with ldd, so a
# machine that has them (or a prebuilt, static worker) installs nothing.
WORKER_BIN="${MEDIASOUP_WORKER_BIN:-$PACKAGED}"
if [ -x "$WORKER_BIN" ] && ldd "$WORKER_BIN" 2>/dev/null | grep -q 'not found'; then
  step "runtime libraries of the mediasoup worker"
  [ "$(id -u)" = 0 ] || die "the worker needs: $(ldd "$WORKER_BIN" | awk '/not found/ {print $1}' | tr '\n' ' ')(run as root to install them)"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libabsl20220623 libusrsctp2 libuv1 libssl3 >/dev/null
  ! ldd "$WORKER_BIN" | grep 'not found' || die "the mediasoup worker still misses libraries (above)"
fi

install_service() {
  [ "$(id -u)" = 0 ] || die "run as root to install the service"
  local user=tiepdan data=/var/lib/tiepdan etc=/etc/tiepdan tmp
  step "service user $user"
  if ! id -u "$user" >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$data" --no-create-home --shell /usr/sbin/nologin "$user"
  fi
  install -d -o "$user" -g "$user" -m 0700 "$data"
  install -d -o root -g "$user" -m 0750 "$etc"
  # The service user must read the installation (not under /root, whose mode is 0700).
  runuser -u "$user" -- test -r "$ROOT/bin/tiepdan.mjs" -a -x "$NODE_BIN" \
    || die "user $user cannot read $ROOT: install tiepdan under /opt/tiepdan (README, Operating tiepdan)"
  step "systemd unit"
  tmp="$(mktemp -d)"
  "$NODE_BIN" "$ROOT/bin/tiepdan.mjs" service-files --out "$tmp" --user "$user" --data-dir "$data" --config-dir "$etc" >/dev/null
  systemd-analyze verify "$tmp/tiepdan.service"
  install -m 0644 "$tmp/tiepdan.service" /etc/systemd/system/tiepdan.service
  # The configuration is the technician's: written once, never overwritten.
  [ -f "$etc/tiepdan.env" ] || install -o root -g "$user" -m 0640 "$tmp/tiepdan.env" "$etc/tiepdan.env"
  rm -rf "$tmp"
  echo "installed /etc/systemd/system/tiepdan.service; configuration in $etc/tiepdan.env"
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable --now tiepdan
    echo "started: systemctl status tiepdan; logs: journalctl -u tiepdan -f"
  else
    echo "systemd is not running on this machine (PID 1: $(cat /proc/1/comm)): start it where it is, with systemctl enable --now tiepdan"
  fi
}

case "$ACTION" in
  service) install_service ;;
  start) step "starting tiepdan (Ctrl-C stops it)"; exec npm start ;;
  test) step "running the test suite"; exec npm test ;;
  *) step "installed. Start with: npm start" ;;
esac
