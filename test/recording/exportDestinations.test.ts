/**
 * Where an export may write (security review H1, M4), on real mounts (root only): a tmpfs as the
 * USB drive (its name has a space, as drive labels do), a read-only one, a bind mount of the
 * recordings under the allowed directory, a symlink pointing into DATA_DIR, a tmpfs outside the
 * allowed directories. Every refusal has its code, and the export's own directory is the only
 * thing ever created or chmodded.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { httpStatusOf } from '../../src/api/errors.ts';
import type { TiepdanError } from '../../src/errors.ts';
import { createExportRoot, listExportDestinations, parseMountInfo, resolveExportDestination, type ExportPolicy } from '../../src/recording/export/destinations.ts';
import { checkSpace, requiredBytes } from '../../src/recording/export/space.ts';
import type { PlannedSession } from '../../src/recording/export/exportPlan.ts';
import { tempDataDir } from '../helpers/env.ts';
import { dirState, mountTmpfs } from './helpers.ts';

const run = promisify(execFile);

const data = await tempDataDir();
const recordingsDir = path.join(data.dir, 'recordings');
await mkdir(path.join(recordingsDir, 'session-B'), { recursive: true, mode: 0o700 });
await writeFile(path.join(recordingsDir, 'session-B', 'manifest.json'), '{}', { mode: 0o600 });
const exportRoot = await mkdtemp(path.join(tmpdir(), 'tiepdan-exproot-'));
const outside = await mkdtemp(path.join(tmpdir(), 'tiepdan-outside-'));
const usb = path.join(exportRoot, 'USB DISK');
const unmounts = [
  await mountTmpfs(usb, '16m'),
  await mountTmpfs(path.join(exportRoot, 'cdrom'), '1m', 'ro,mode=0755'),
  await mountTmpfs(path.join(outside, 'usb'), '1m'),
];
await mkdir(path.join(exportRoot, 'bind'));
await run('mount', ['--bind', recordingsDir, path.join(exportRoot, 'bind')]);
unmounts.unshift(async () => {
  await run('umount', [path.join(exportRoot, 'bind')]);
});
await symlink(path.join(recordingsDir, 'session-B'), path.join(exportRoot, 'link'));
await symlink(usb, path.join(exportRoot, 'usblink'));
await mkdir(path.join(usb, 'folder'));
t.teardown(async () => {
  let clean = true;
  for (const u of unmounts) await u().catch(() => (clean = false));
  // Never rm -r across a mount that is still there (the bind mount holds the recordings).
  if (clean) await Promise.all([rm(exportRoot, { recursive: true, force: true }), rm(outside, { recursive: true, force: true })]);
  await data.remove();
});

const policy: ExportPolicy = { roots: [exportRoot], dataDir: data.dir, recordingsDir };

t.test('mountinfo: escaped names, read-only, the visible mount of an over-mounted point', async (t) => {
  const m = parseMountInfo(
    [
      '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
      '90 27 8:17 / /media/usb\\040stick rw,nosuid - vfat /dev/sdb1 rw,fmask=0022',
      '91 27 11:0 / /media/cdrom ro,relatime - iso9660 /dev/sr0 ro',
      '92 27 0:50 / /mnt rw shared:1 - tmpfs tmpfs rw',
      '93 92 8:33 / /mnt rw - ext4 /dev/sdc1 rw',
    ].join('\n'),
  );
  t.same(m.get('/media/usb stick'), { mountPoint: '/media/usb stick', fsType: 'vfat', source: '/dev/sdb1', readOnly: false });
  t.equal(m.get('/media/cdrom')?.readOnly, true);
  t.equal(m.get('/mnt')?.source, '/dev/sdc1', 'the last mount on a point is the one in use');
});

t.test('the list offers only writable drives mounted below the allowed directories', async (t) => {
  const { roots, destinations } = await listExportDestinations(policy);
  t.same(roots, [exportRoot]);
  t.same(destinations.map((d) => d.path), [usb], 'only the tmpfs "USB DISK": not the bind-mounted recordings, the read-only one, the one outside');
  t.equal(destinations[0]?.fsType, 'tmpfs');
  t.ok((destinations[0]?.freeBytes ?? 0) > 15 * 1024 * 1024, 'with its free space');
  t.same(await listExportDestinations({ ...policy, roots: [] }), { roots: [], destinations: [] }, 'nothing configured: nothing offered');
});

t.test('each attack is refused with its code', async (t) => {
  const refused = async (p: string, codes: string[], why: string) => {
    const err = await resolveExportDestination(p, policy).then(() => undefined, (e: TiepdanError) => e);
    // A refusal of the operator's choice, not a server failure: the API answers it with a 4xx.
    t.ok(err && codes.includes(err.code) && httpStatusOf(err.code) >= 400 && httpStatusOf(err.code) < 500, `${why}: ${p} → ${err?.code ?? 'accepted'}`);
  };
  await refused('/', ['EXPORT_DESTINATION_NOT_ALLOWED'], 'the root directory');
  await refused('/etc', ['EXPORT_DESTINATION_ON_RECORDINGS', 'EXPORT_DESTINATION_NOT_ALLOWED'], 'a system directory');
  await refused(data.dir, ['EXPORT_DESTINATION_ON_RECORDINGS'], 'DATA_DIR');
  await refused(path.join(recordingsDir, 'session-B'), ['EXPORT_DESTINATION_ON_RECORDINGS'], "another session's recording");
  await refused(path.join(exportRoot, 'bind'), ['EXPORT_DESTINATION_ON_RECORDINGS'], 'a mount point under the allowed directory that is the recordings filesystem');
  await refused(path.join(exportRoot, 'link'), ['EXPORT_DESTINATION_ON_RECORDINGS'], 'a symlink into DATA_DIR');
  await refused(exportRoot, ['EXPORT_DESTINATION_ON_RECORDINGS'], 'the allowed directory itself (on the system disk, as DATA_DIR here)');
  await refused(path.join(usb, 'folder'), ['EXPORT_DESTINATION_NOT_MOUNTED'], 'a folder on a drive rather than the drive');
  await refused(path.join(exportRoot, 'cdrom'), ['EXPORT_DESTINATION_READ_ONLY'], 'a read-only mount');
  await refused(path.join(outside, 'usb'), ['EXPORT_DESTINATION_NOT_ALLOWED'], 'a drive outside EXPORT_DESTINATIONS');
  await refused(`${usb}/../bind`, ['EXPORT_DESTINATION_INVALID'], '".." segments');
  await refused('USB DISK', ['EXPORT_DESTINATION_INVALID'], 'a relative path');
  await refused(path.join(exportRoot, 'nothing'), ['EXPORT_DESTINATION_MISSING'], 'a missing directory');
  const off = await resolveExportDestination(usb, { ...policy, roots: [] }).catch((e: { code: string; message: string }) => e);
  t.match(off, { code: 'EXPORT_NOT_CONFIGURED', message: /EXPORT_DESTINATIONS/ }, 'exports off: the error says what to set');
  t.equal((await resolveExportDestination(usb, policy)).path, usb, 'the drive is accepted');
  t.equal((await resolveExportDestination(path.join(exportRoot, 'usblink'), policy)).path, usb, 'a symlink is judged (and used) by where it points');
});

t.test('the export directory is the only thing created or chmodded', async (t) => {
  const before = await dirState(usb);
  const dir = await createExportRoot(usb, 'tiepdan-export-1', recordingsDir);
  t.equal(dir, path.join(usb, 'tiepdan-export-1'));
  t.equal(((await stat(dir)).mode & 0o777).toString(8), '700', 'the new directory is owner-only');
  const after = await dirState(usb);
  t.same({ ...after, entries: after.entries.filter((e) => e !== 'tiepdan-export-1') }, before, 'the drive root keeps its mode, owner and contents');
  await t.rejects(createExportRoot(usb, 'tiepdan-export-1', recordingsDir), { code: 'EXPORT_DESTINATION_EXISTS' }, 'an existing directory is never reused');
  const checked = await resolveExportDestination(usb, policy);
  await t.rejects(createExportRoot(usb, 'tiepdan-export-3', recordingsDir, checked.dev + 1), { code: 'EXPORT_DESTINATION_CHANGED' }, 'a different filesystem than the one checked (the drive was swapped or unmounted meanwhile)');
  t.notOk((await dirState(usb)).entries.includes('tiepdan-export-3'), 'and nothing is left there');

  const guarded = [recordingsDir, path.join(recordingsDir, 'session-B'), data.dir];
  const states = await Promise.all(guarded.map(dirState));
  await t.rejects(createExportRoot(path.join(exportRoot, 'bind'), 'tiepdan-export-2', recordingsDir), { code: 'EXPORT_DESTINATION_ON_RECORDINGS' }, 'the recordings filesystem, even through a mount under the allowed directory');
  await t.rejects(createExportRoot(path.join(exportRoot, 'link'), 'tiepdan-export-2', recordingsDir), { code: 'EXPORT_DESTINATION_ON_RECORDINGS' }, 'or a symlink');
  await t.rejects(createExportRoot(data.dir, 'tiepdan-export-2', recordingsDir), { code: 'EXPORT_DESTINATION_ON_RECORDINGS' }, 'or DATA_DIR');
  await t.rejects(createExportRoot('/', 'tiepdan-export-2', recordingsDir), { code: 'EXPORT_DESTINATION_NOT_ALLOWED' }, 'never /');
  t.same(await Promise.all(guarded.map(dirState)), states, 'DATA_DIR and the recordings: modes, owners and contents unchanged');
});

t.test('space: an export that cannot fit is refused before copying', async (t) => {
  const sessions = [{ sessionId: 's', headHash: '', status: 'complete', bytes: 0, files: [{ sessionId: 's', src: '', dest: '', size: 10_000, sha256: undefined }] }] as PlannedSession[];
  const dir = requiredBytes(sessions, { kind: 'directory' }, true, 4096);
  t.ok(dir >= 12288 + 1024 * 1024, `a directory export of 10 kB needs ${dir} bytes (blocks, slack)`);
  const iso = requiredBytes(sessions, { kind: 'iso', media: 'cd' }, true, 4096);
  t.ok(iso > dir + 4 * 1024 * 1024, 'a disc set needs room for the encrypted copies, the image and its read-back');
  const destination = (await listExportDestinations(policy)).destinations[0];
  if (!destination) throw new Error('no destination');
  t.doesNotThrow(() => checkSpace(destination, dir));
  t.throws(() => checkSpace(destination, 64 * 1024 * 1024), { code: 'EXPORT_DESTINATION_FULL' });
});

t.test('EXPORT_DESTINATIONS: default /media,/mnt; none turns exports off; / and relative paths stop start-up', async (t) => {
  const { loadConfig } = await import('../../src/config/config.ts');
  const env = { NODE_ENV: 'test' };
  t.same(loadConfig(env).recording.exportDestinations, ['/media', '/mnt']);
  t.same(loadConfig({ ...env, EXPORT_DESTINATIONS: 'none' }).recording.exportDestinations, []);
  t.same(loadConfig({ ...env, EXPORT_DESTINATIONS: ' /media/usb , /mnt/x/ ' }).recording.exportDestinations, ['/media/usb', '/mnt/x']);
  for (const bad of ['/', '//', 'media', '/a/../b']) t.throws(() => loadConfig({ ...env, EXPORT_DESTINATIONS: bad }), { code: 'CONFIG_INVALID' }, `refused: ${bad}`);
});
