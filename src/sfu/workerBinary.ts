import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { TiepdanError } from '../errors.ts';

export interface WorkerBinary {
  path: string;
  /** Where it came from: MEDIASOUP_WORKER_BIN, or mediasoup's own location (prebuilt download or offline build). */
  source: 'MEDIASOUP_WORKER_BIN' | 'mediasoup-package';
}

/** Where mediasoup looks for its worker; scripts/build-mediasoup-worker.sh installs the offline build there. */
export function packagedWorkerPath(): string {
  const require = createRequire(import.meta.url);
  // mediasoup's exports hide package.json; its main is node/lib/index.js inside the package root.
  const packageRoot = path.resolve(path.dirname(require.resolve('mediasoup')), '..', '..');
  return path.join(packageRoot, 'worker', 'out', 'Release', 'mediasoup-worker');
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves the worker binary: MEDIASOUP_WORKER_BIN if set, otherwise mediasoup's package location. */
export function resolveWorkerBinary(configured: string | undefined): WorkerBinary {
  if (configured !== undefined) {
    if (!isExecutable(configured)) {
      throw new TiepdanError('WORKER_BIN_MISSING', `MEDIASOUP_WORKER_BIN=${configured} is not an executable file`);
    }
    return { path: configured, source: 'MEDIASOUP_WORKER_BIN' };
  }
  const packaged = packagedWorkerPath();
  if (!isExecutable(packaged)) {
    throw new TiepdanError(
      'WORKER_BIN_MISSING',
      `mediasoup worker binary not found at ${packaged}. Run ./scripts/setup.sh (it downloads the prebuilt worker ` +
        'when online and otherwise builds it offline from Debian packages), or set MEDIASOUP_WORKER_BIN.',
    );
  }
  return { path: packaged, source: 'mediasoup-package' };
}
