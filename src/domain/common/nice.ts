/**
 * Background work that spawns a program (FFmpeg for the playable copy, xorriso for disc images,
 * Chromium for PDFs) runs it at this niceness: on a 2-core host the kernel then gives the live
 * media (mediasoup workers, the recorder's FFmpegs, which run above normal) the CPU first
 * (security review M13). nice(1) execs the program, so the pid, signals and exit code are the
 * program's own.
 */
export const JOB_NICENESS = 10;

/** `[command, args]` that run `program args…` through nice(1). */
export function niced(program: string, args: readonly string[]): [string, string[]] {
  return ['nice', ['-n', String(JOB_NICENESS), program, ...args]];
}
