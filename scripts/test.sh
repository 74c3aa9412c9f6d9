#!/usr/bin/env bash
# `npm test` after the type check: the tap suite in two phases, so that the suite's wall time does
# not grow with every feature while the tests that judge real-time media keep the machine to
# themselves.
#
# 1. Everything that does not judge real-time media (control API, database, operations, pure rules,
#    the live store, the signaling-only live tests, the console's pages that only read and write
#    through the API, in Chromium and Firefox) runs two files at a time (`--jobs=2`): these files wait on PostgreSQL start-up, fsync
#    and page loads as much as they compute, so two of them share this 2-core machine well
#    (measured for the non-page files: 440 s one at a time, 262 s two at a time).
# 2. The files that join rooms with real media or measure frames, audio, loss, recording or a
#    deadline (network conditions, the live rooms, recording, the load client, the signaling fuzz
#    guard with its 75 s budget, the pages that join a room, the worker's media) run one at a time,
#    as their thresholds were measured that way.
#
# Both phases always run; the exit status is non-zero if either failed. Extra arguments go to both
# tap calls (e.g. `npm test -- --reporter=terse`).
set -uo pipefail
cd "$(dirname "$0")/.."

# One place lists the serial files; the parallel phase is "everything else" (package.json's
# include), so a new test file is parallel unless it is put here.
SERIAL=(
  'test/network/**/*.test.ts'
  # The live rooms with media (browsers, real recorders, a worker killed); the signaling-only live
  # tests (admission, lobby, floor, caps, ejection, tokens) run in the first phase.
  'test/live/three-peers.test.ts'
  'test/live/reconnect.test.ts'
  'test/live/worker-death.test.ts'
  'test/live/local-recording.test.ts'
  'test/live/recording-bridge.test.ts'
  'test/live/browserRtpParameters.test.ts'
  'test/recording/**/*.test.ts'
  'test/load/**/*.test.ts'
  'test/guards/**/*.test.ts'
  'test/web/console-e2e.test.ts'
  'test/web/language-switch.test.ts'
  'test/web/local-recording.test.ts'
  'test/web/invitation-link.test.ts'
  'test/web/invitation-qr.test.ts'
  'test/worker-media.test.ts'
)

excludes=()
for g in "${SERIAL[@]}"; do excludes+=("--exclude=$g"); done

started=$(date +%s)
npx tap --jobs=2 "${excludes[@]}" "$@"
parallel=$?
mid=$(date +%s)
npx tap --jobs=1 "${SERIAL[@]}" "$@"
serial=$?
ended=$(date +%s)
echo "# test phases: parallel $((mid - started)) s (exit $parallel), serial $((ended - mid)) s (exit $serial)"
[ "$parallel" -eq 0 ] && [ "$serial" -eq 0 ]
