#!/usr/bin/env bash
# Builds mediasoup's worker offline from the sources inside the mediasoup npm package, against
# Debian 12's libraries (no GitHub, no PyPI, no meson wraps downloaded), and installs it where
# mediasoup looks for it (node_modules/mediasoup/worker/out/Release/mediasoup-worker).
#
# The result is cached outside the checkout, keyed by mediasoup version and by the contents of
# scripts/mediasoup-worker/ (the shims) and of this script, so a second setup takes seconds.
#
# Usage: scripts/build-mediasoup-worker.sh            (from the project root, after npm install)
# Env:   TIEPDAN_CACHE_DIR   cache folder (default ${XDG_CACHE_HOME:-~/.cache}/tiepdan)
#        TIEPDAN_BUILD_JOBS  parallel compile jobs (default: number of cores)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHIMS="$ROOT/scripts/mediasoup-worker"
MS_PKG="$ROOT/node_modules/mediasoup"
CACHE="${TIEPDAN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tiepdan}"
JOBS="${TIEPDAN_BUILD_JOBS:-$(nproc)}"

log() { printf '[worker-build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[worker-build] ERROR: %s\n' "$*" >&2; exit 1; }

[ -f "$MS_PKG/package.json" ] || die "node_modules/mediasoup is missing: run npm install first"
MS_VERSION="$(sed -n 's/^\s*"version": "\([^"]*\)".*/\1/p' "$MS_PKG/package.json" | head -1)"
SHIM_HASH="$( (cd "$ROOT" && find scripts/mediasoup-worker -type f | LC_ALL=C sort | xargs sha256sum; sha256sum scripts/build-mediasoup-worker.sh) | sha256sum | cut -c1-12)"
KEY="mediasoup-$MS_VERSION-$SHIM_HASH"
CACHED_BIN="$CACHE/workers/$KEY/mediasoup-worker"
TARGET_BIN="$MS_PKG/worker/out/Release/mediasoup-worker"

install_bin() {
  mkdir -p "$(dirname "$TARGET_BIN")"
  cp -f "$CACHED_BIN" "$TARGET_BIN.tmp" && mv -f "$TARGET_BIN.tmp" "$TARGET_BIN"
  log "installed $TARGET_BIN (from cache $KEY)"
}

if [ -x "$CACHED_BIN" ]; then
  log "cached worker found for $KEY"
  install_bin
  exit 0
fi

# --- what this script knows how to provide ---------------------------------------------------------
# Checked before anything is compiled, so that a future mediasoup that needs something new stops
# here with a sentence saying what, instead of minutes later in a compiler error or, worse, with a
# worker that builds but misbehaves. Each check names what to review when it trips.
W_SRC="$MS_PKG/worker"
# Subprojects without a shim that a Linux release build of the worker never configures.
UNUSED_WRAPS=" catch2 wingetopt "
for wrap in "$W_SRC"/subprojects/*.wrap; do
  name="$(basename "$wrap" .wrap)"
  [ -d "$SHIMS/subprojects/$name" ] || [[ "$UNUSED_WRAPS" == *" $name "* ]] \
    || die "mediasoup $MS_VERSION has a new subproject '$name' ($wrap) with no shim in scripts/mediasoup-worker/subprojects/$name: write one that wraps a Debian package (see the others), or list it in UNUSED_WRAPS if the worker does not use it"
done
# The unordered_dense shim implements only map, set and hash (all mediasoup 3.27.1 uses).
# (`|| true`: a version that no longer uses the library must pass, not end here silently under pipefail.)
ankerl_names="$( { grep -rhoE 'ankerl::unordered_dense::[A-Za-z_]+' "$W_SRC/src" "$W_SRC/include" 2>/dev/null || true; } \
  | sed 's/.*:://' | LC_ALL=C sort -u | tr '\n' ' ')"
for n in $ankerl_names; do
  case "$n" in map | set | hash) ;;
    *) die "mediasoup $MS_VERSION uses ankerl::unordered_dense::$n, which the shim scripts/mediasoup-worker/subprojects/unordered-dense/include/ankerl/unordered_dense.h does not provide: add it there (on top of the standard library)" ;;
  esac
done
# The real library's map has values() (its dense vector); std::unordered_map has not.
if grep -rqE '\.values\(\)' "$W_SRC/src" "$W_SRC/include"; then
  die "mediasoup $MS_VERSION calls .values() (grep -rn '\.values()' in node_modules/mediasoup/worker): if that is an unordered_dense map, the shim needs it"
fi
MESON_REQ="$(sed -n "s/^\s*meson_version: '\(.*\)',\?$/\1/p" "$W_SRC/meson.build" | head -1)"
case "$MESON_REQ" in
  # 1.1.0 is what upstream bumped to for their bundled meson; its meson.build uses nothing that
  # Debian 12's 1.0.1 lacks (the configure step below proves it every build).
  ">= 1.1.0" | ">= 1.0.0" | ">= 1.0.1") ;;
  *) die "mediasoup $MS_VERSION asks for meson $MESON_REQ; Debian 12 has 1.0.1: read the CHANGELOG for why, and if its meson.build still configures with 1.0.1, add the requirement to the list in this script" ;;
esac

# --- system packages --------------------------------------------------------------------------
# (mediasoup >= 3.20 has its own SCTP stack, so no libusrsctp; libabsl only for deps/libwebrtc.)
BUILD_PKGS=(g++ meson ninja-build pkg-config libssl-dev libuv1-dev libsrtp2-dev
  libabsl-dev libflatbuffers-dev flatbuffers-compiler dpkg-dev make)
missing=()
for p in "${BUILD_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]} (run as root or: sudo apt-get install ${missing[*]})"
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

# --- libsrtp 2 with OpenSSL, from Debian's source package --------------------------------------
# Debian's binary libsrtp2 is built on NSS, which doubles the per-packet SRTP cost in the worker.
SRTP_PREFIX="$CACHE/srtp2-openssl"
if [ ! -f "$SRTP_PREFIX/lib/libsrtp2.a" ]; then
  SRC="$CACHE/src/libsrtp2"
  rm -rf "$SRC" && mkdir -p "$SRC"
  if ! apt-get source --print-uris libsrtp2 >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "no deb-src entry for libsrtp2; as root this script adds one"
    log "adding a deb-src entry for Debian's archive (source packages only)"
    uris="$(grep -h '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1 | awk '{print $2}')"
    uris="${uris:-http://deb.debian.org/debian}"
    printf 'Types: deb-src\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$uris" > /etc/apt/sources.list.d/tiepdan-deb-src.sources
    apt-get update -q -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/tiepdan-deb-src.sources \
      -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >/dev/null
  fi
  log "fetching libsrtp2 source from Debian's archive"
  (cd "$SRC" && apt-get source -q --download-only libsrtp2 >/dev/null 2>&1 && dpkg-source -q -x ./*.dsc tree >/dev/null 2>&1)
  log "building libsrtp2 (static, OpenSSL crypto)"
  (cd "$SRC/tree" && ./configure -q --enable-openssl --prefix="$SRTP_PREFIX" >/dev/null \
    && make -s -j"$JOBS" libsrtp2.a >/dev/null 2>&1)
  rm -rf "$SRTP_PREFIX.tmp" && mkdir -p "$SRTP_PREFIX.tmp/lib" "$SRTP_PREFIX.tmp/include/srtp2"
  cp "$SRC/tree/libsrtp2.a" "$SRTP_PREFIX.tmp/lib/"
  cp "$SRC/tree/include/srtp.h" "$SRC/tree/crypto/include/auth.h" "$SRC/tree/crypto/include/cipher.h" \
    "$SRC/tree/crypto/include/crypto_types.h" "$SRTP_PREFIX.tmp/include/srtp2/"
  rm -rf "$SRTP_PREFIX" && mv "$SRTP_PREFIX.tmp" "$SRTP_PREFIX"
  rm -rf "$SRC"
fi

# Every libsrtp name the worker uses must come from libsrtp 2's headers or from the libsrtp3 shim;
# a new libsrtp 3 call would otherwise surface as a compiler error deep into the build.
srtp_known="$(cat "$SRTP_PREFIX"/include/srtp2/*.h "$SHIMS/subprojects/libsrtp3/include/srtp.h")"
for n in $(grep -rhoE '\bsrtp_[a-z0-9_]+' "$W_SRC/src" "$W_SRC/include" | LC_ALL=C sort -u); do
  grep -qw -- "$n" <<<"$srtp_known" \
    || die "mediasoup $MS_VERSION uses libsrtp's $n, which neither Debian's libsrtp 2 nor scripts/mediasoup-worker/subprojects/libsrtp3/include/srtp.h provides: add it to that shim"
done

# --- copy and patch the worker sources ------------------------------------------------------------
BUILD="$CACHE/build/$KEY"
log "preparing worker sources for mediasoup $MS_VERSION in $BUILD"
rm -rf "$BUILD" && mkdir -p "$BUILD"
cp -r "$MS_PKG/worker" "$BUILD/worker"
W="$BUILD/worker"
rm -rf "$W/out"

# Debian 12 has meson 1.0.1; mediasoup only needs features that 1.0 has.
sed -i "s/meson_version: '$MESON_REQ'/meson_version: '>= 1.0.0'/" "$W/meson.build"

# DTLS crash with Debian's kTLS-enabled OpenSSL 3.0: the BIO callback must test the RETURN bit,
# not equality, or it answers 1 to libssl's kTLS query and libssl writes through a null buffer.
# Still upstream's code in 3.27.1; skipped once upstream tests the bit itself.
DTLS="$W/src/RTC/DtlsTransport.cpp"
if grep -q 'operationType == BIO_CB_RETURN' "$DTLS"; then
  sed -i 's/(operationType == BIO_CB_RETURN)/((operationType \& BIO_CB_RETURN) != 0)/' "$DTLS"
elif ! grep -qE 'operationType & BIO_CB_RETURN' "$DTLS"; then
  die "DtlsTransport.cpp's BIO callback changed in mediasoup $MS_VERSION: review the kTLS fix in this script"
fi

# Local shim subprojects, named as each .wrap file's `directory`, wrapping system libraries.
for wrap in "$W"/subprojects/*.wrap; do
  name="$(basename "$wrap" .wrap)"
  dir="$(sed -n 's/^directory = //p' "$wrap")"
  if [ -d "$SHIMS/subprojects/$name" ]; then
    cp -r "$SHIMS/subprojects/$name" "$W/subprojects/$dir"
  fi
done
cp -r "$SRTP_PREFIX" "$W/subprojects/$(sed -n 's/^directory = //p' "$W/subprojects/libsrtp3.wrap")/srtp2-openssl"

# --- build ------------------------------------------------------------------------------------
# Release build as mediasoup's own (tasks.py): -Db_ndebug=true. With assertions on, a
# comedia PlainTransport aborts on connect (a required flatbuffers field is still empty).
log "meson setup"
(cd "$W" && meson setup out/build --buildtype=release --wrap-mode=nodownload \
  -Db_ndebug=true -Db_lto=false >"$BUILD/meson-setup.log" 2>&1) \
  || { tail -40 "$BUILD/meson-setup.log" >&2; die "meson setup failed (log: $BUILD/meson-setup.log)"; }
# The flatbuffers headers are generated first by ninja itself: since 3.27 the generator is a
# source of the worker's dependency (before, this script had to build fbs/FBS by hand).
: >"$BUILD/ninja.log"
log "compiling mediasoup-worker with $JOBS jobs (about 8 minutes on 2 free cores; progress every 30 s)"
ninja -C "$W/out/build" -j"$JOBS" mediasoup-worker >>"$BUILD/ninja.log" 2>&1 &
ninja_pid=$!
while kill -0 "$ninja_pid" 2>/dev/null; do
  sleep 30
  kill -0 "$ninja_pid" 2>/dev/null && log "  $(grep -o '^\[[0-9]*/[0-9]*\]' "$BUILD/ninja.log" | tail -1) compiled"
done
wait "$ninja_pid" || { grep -B2 -A20 'error' "$BUILD/ninja.log" | head -60 >&2; die "worker compilation failed (log: $BUILD/ninja.log)"; }

mkdir -p "$(dirname "$CACHED_BIN")"
cp "$W/out/build/mediasoup-worker" "$CACHED_BIN.tmp" && mv "$CACHED_BIN.tmp" "$CACHED_BIN"
rm -rf "$BUILD"
log "worker built: $CACHED_BIN"
install_bin
