#!/usr/bin/env bash
# Builds docker/Dockerfile with neither Docker Hub nor a Docker engine, then starts the image and
# waits for /readyz: podman and runc come from Debian, the `debian:12` base image is made from this
# machine's own apt sources with mmdebstrap. Only the Debian mirror and the npm registry are used.
#
#   sudo docker/podman-build.sh               builds localhost/tiepdan:latest and checks it starts
#
# Env: TIEPDAN_EXTRA_CA    a PEM file npm must trust inside the build (a registry mirror with an
#                          internal CA, or behind an inspecting proxy); default: NODE_EXTRA_CA_CERTS
#      TIEPDAN_CACHE_DIR   the mediasoup worker cache to reuse (default ~/.cache/tiepdan): copied
#                          into the build, never written to; without it the worker is built (minutes)
#      TIEPDAN_IMAGE       the tag (default localhost/tiepdan:latest)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${TIEPDAN_IMAGE:-localhost/tiepdan:latest}"
CACHE="${TIEPDAN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tiepdan}"
EXTRA_CA="${TIEPDAN_EXTRA_CA:-${NODE_EXTRA_CA_CERTS:-}}"
log() { printf '[podman-build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[podman-build] ERROR: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (apt-get, rootful podman)"

missing=()
for p in podman runc mmdebstrap; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

WORK="$(mktemp -d /tmp/tiepdan-podman.XXXXXX)"
CONTAINER="tiepdan-smoke-$$"
cleanup() { podman rm -f "$CONTAINER" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
# runc, not Debian's default crun: crun refuses a host with cgroup v1 and v2 mounted side by side
# ("hybrid mode"), as some VMs have. Explicit ulimits: the default ones can exceed the host's hard
# limits, which a container may not raise.
PODMAN=(podman --runtime runc)
LIMITS=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)

if ! podman image exists localhost/debian:12; then
  sources=/etc/apt/sources.list.d/debian.sources
  [ -r "$sources" ] || sources=/etc/apt/sources.list
  log "base image debian:12 from $sources (mmdebstrap, about 2 minutes)"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm "$WORK/debian12.tar" "$sources"
  podman import "$WORK/debian12.tar" localhost/debian:12 >/dev/null
fi

mounts=()
if [ -d "$CACHE/workers" ]; then
  cp -a "$CACHE" "$WORK/cache"
  mounts+=(-v "$WORK/cache:/var/cache/tiepdan")
fi
if [ -n "$EXTRA_CA" ]; then
  [ -r "$EXTRA_CA" ] || die "TIEPDAN_EXTRA_CA=$EXTRA_CA is not readable"
  printf 'cafile=/run/tiepdan-extra-ca.crt\n' >"$WORK/npmrc"
  mounts+=(-v "$EXTRA_CA:/run/tiepdan-extra-ca.crt:ro" -v "$WORK/npmrc:/root/.npmrc:ro")
fi
log "podman build -f docker/Dockerfile -t $IMAGE"
started=$(date +%s)
"${PODMAN[@]}" build --network host "${LIMITS[@]}" --from localhost/debian:12 "${mounts[@]}" -f "$ROOT/docker/Dockerfile" -t "$IMAGE" "$ROOT"
log "built in $(($(date +%s) - started)) s: $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

# A free port on loopback, then the image as the README runs it (host network), with plain HTTP.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
rtc="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log "starting the image (PORT=$port)"
started=$(date +%s)
"${PODMAN[@]}" run -d --name "$CONTAINER" --network host "${LIMITS[@]}" \
  -e PORT="$port" -e HOST=127.0.0.1 -e TLS=off -e EMBEDDED_PG_PORT=0 -e MEDIASOUP_NUM_WORKERS=1 \
  -e RTC_LISTEN_IP=127.0.0.1 -e RTC_PORT_BASE="$rtc" -e TURN_EMBEDDED=off "$IMAGE" >/dev/null
for _ in $(seq 1 120); do
  if body="$(curl -fsS "http://127.0.0.1:$port/readyz" 2>/dev/null)"; then
    log "ready in $(($(date +%s) - started)) s: $body"
    podman logs "$CONTAINER" 2>&1 | grep -A3 'tiepdan is ready' || true
    exit 0
  fi
  sleep 1
done
podman logs "$CONTAINER" 2>&1 | tail -30
die "the image did not answer /readyz in 120 s"
