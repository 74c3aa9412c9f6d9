import { button, dyn, h, LocalizedError, msg, setText, text } from '../../ui/dom.ts';
import { formatBytes, t, type MessageKey } from '../../i18n/index.ts';
import { api, type Paged, type SessionView } from './api.ts';
import { followJob, governanceRoutes, recordingRoutes, type ExportDestinations, type GovernedRecording, type Job } from './recordingApi.ts';
import { codeLabel, display, field, section, table, withStatus } from './widgets.ts';

function rowsOf<T>(answer: unknown): T[] {
  if (Array.isArray(answer)) return answer as T[];
  const items = (answer as { items?: unknown }).items;
  return Array.isArray(items) ? (items as T[]) : [];
}

/** How each export kind is asked of the API: a drive (folder) or a CD/DVD image written to it. */
const EXPORT_KINDS = {
  directory: { kind: 'directory' },
  cd: { kind: 'iso', media: 'cd' },
  dvd: { kind: 'iso', media: 'dvd' },
} as const;
type ExportKind = keyof typeof EXPORT_KINDS;

/**
 * Recordings (dữ liệu ghi âm, ghi hình): the playable copy played in the page, verification, export
 * to a drive or to CD/DVD images with progress, and governance: retention only extended, a legal
 * hold set or released with its reason (the server applies the H2 rules; the page says them in
 * plain words). `flash` is a message carried over the page's redraw after a change.
 */
export async function recordingsPage(main: HTMLElement, flash?: { key: MessageKey; params?: Record<string, string> }): Promise<void> {
  const recs = rowsOf<GovernedRecording>(await api.get<unknown>(recordingRoutes.list()));
  let titles = new Map<string, string>();
  try {
    titles = new Map((await api.get('/sessions?limit=200')).items.map((s) => [s.id, s.title]));
  } catch {
    // titles are a convenience
  }
  const title = (sessionId: string) => titles.get(sessionId) ?? sessionId;
  const player = h('video', { controls: true, id: 'recording-player', preload: 'metadata', hidden: true, class: 'player' });
  const status = h('p', { class: 'status', role: 'status', id: 'recordings-status' });
  const bar = h('div');
  const progress = h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0, hidden: true, id: 'job-progress' }, bar);
  const showJob = (job: Job) => {
    const pct = Math.round(job.progress.fraction * 100);
    progress.hidden = job.status !== 'running' && job.status !== 'queued';
    progress.dataset.job = job.status;
    bar.style.width = `${pct}%`;
    progress.setAttribute('aria-valuenow', String(pct));
    status.className = 'status';
    if (job.status === 'queued') setText(status, 'recordings.jobQueued');
    else setText(status, 'recordings.exportProgress', { percent: pct });
  };
  // Exports go only to a drive the server lists (mounted under EXPORT_DESTINATIONS), and are always
  // encrypted: the passphrase travels to the recipient separately. Roles that may not export get no list.
  const drives = await api.get<ExportDestinations>(recordingRoutes.exportDestinations()).catch(() => undefined);
  const target = h('select', {}, ...(drives?.destinations ?? []).map((d) => h('option', { value: d.path }, `${d.path} (${d.source}, ${formatBytes(d.freeBytes)})`)));
  const kind = h('select', {}, ...(Object.keys(EXPORT_KINDS) as ExportKind[]).map((k) => h('option', { value: k }, msg(`recordings.kind.${k}`))));
  const passphrase = h('input', { type: 'password', minlength: 8, autocomplete: 'new-password' });
  const exportControls = drives
    ? h(
        'div',
        { class: 'row top' },
        drives.destinations.length > 0 ? field('export-target', 'recordings.exportTarget', target) : text(drives.roots.length > 0 ? 'recordings.noDrive' : 'recordings.exportsOff', { roots: drives.roots.join(', ') }, 'p'),
        field('export-kind', 'recordings.exportKind', kind),
        field('export-passphrase', 'recordings.exportPassphrase', passphrase),
      )
    : null;
  const exportOne = (sessionId: string) => {
    // A fresh export: the previous one's "done" must not be read as this one's.
    progress.dataset.job = 'starting';
    void withStatus(status, async () => {
      const job = await api.post<Job>(recordingRoutes.exports(), { ...EXPORT_KINDS[kind.value as ExportKind], sessionIds: [sessionId], destination: target.value, passphrase: passphrase.value });
      const done = await followJob(job.id, showJob);
      if (done.status === 'failed') throw Object.assign(new Error(done.error?.message ?? 'failed'), { code: done.error?.code });
      progress.hidden = false;
      progress.dataset.job = 'done';
      bar.style.width = '100%';
      progress.setAttribute('aria-valuenow', '100');
    }).then((ok) => {
      if (ok) setText(status, 'recordings.exportDone', { destination: target.value });
      else progress.dataset.job = 'failed';
    });
  };

  const rows = table('recordings.title', recs, [
    { key: 'sessions.title', cell: (r) => title(r.sessionId) },
    { key: 'sessions.status', cell: (r) => codeLabel(r.status) },
    { key: 'sessions.time', cell: (r) => `${display(r.startedAt)} – ${display(r.closedAt)}` },
    { key: 'field.bytes', cell: (r) => formatBytes(r.bytes), num: true },
    { key: 'recordings.retentionUntil', cell: (r) => h('span', { 'data-retention': r.sessionId }, r.retentionUntil ?? msg('recordings.notSet')) },
    { key: 'recordings.legalHold', cell: (r) => h('span', { 'data-hold': r.sessionId, 'data-held': String(r.legalHold) }, r.legalHold ? dyn(() => `${t('common.yes')} (${r.legalHoldReason})`) : msg('common.no')) },
    {
      key: 'common.actions',
      cell: (r) =>
        h(
          'div',
          { class: 'row nowrap' },
          r.playable
            ? button('recordings.play', () => void play(r.sessionId), { 'data-play': r.sessionId, class: 'primary' })
            : button('recordings.playable', (ev) => void withStatus(status, async () => {
                (ev.currentTarget as HTMLButtonElement).disabled = true; // one build at a time
                const job = await api.post<Job>(recordingRoutes.buildPlayable(r.sessionId));
                const done = await followJob(job.id, showJob);
                if (done.status === 'failed') throw new Error(done.error?.message ?? 'failed');
                await recordingsPage(main);
              }), { 'data-build-playable': r.sessionId }),
          button('recordings.verify', () => void withStatus(status, async () => {
            // Verification is a queued job (it re-hashes every segment).
            const done = await followJob((await api.post<Job>(recordingRoutes.verify(r.sessionId))).id, () => undefined);
            if (done.status === 'failed') throw new Error(done.error?.message ?? 'failed');
            const report = done.result as { ok: boolean; problems: unknown[] };
            if (!report.ok) throw new LocalizedError('recordings.verifyFail', { details: display(report.problems) });
          }, 'recordings.verifyOk'), { 'data-verify': r.sessionId }),
          drives && drives.destinations.length > 0 && button('recordings.export', () => exportOne(r.sessionId), { 'data-export': r.sessionId }),
        ),
    },
  ], (r) => r.sessionId);
  async function play(sessionId: string): Promise<void> {
    // The player cannot send the bearer header itself: fetch the copy and play it from a blob.
    await withStatus(status, async () => {
      const response = await fetch(recordingRoutes.playable(sessionId), { headers: { authorization: `Bearer ${api.token ?? ''}` } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      player.src = URL.createObjectURL(await response.blob());
      player.hidden = false;
      await player.play().catch(() => undefined);
    });
  }
  main.replaceChildren(
    section('recordings.title', recs.length > 0 ? rows : text('recordings.empty', undefined, 'p'), exportControls, progress, status, player),
    recs.some((r) => r.status !== 'deleted') ? governance(main, recs.filter((r) => r.status !== 'deleted'), title, flash) : '',
  );
}

/** Retention and legal hold: one recording at a time, each change redraws the page with its result. */
function governance(main: HTMLElement, recs: GovernedRecording[], title: (id: string) => string, flash: { key: MessageKey; params?: Record<string, string> } | undefined): HTMLElement {
  const status = h('p', { class: 'status', role: 'status', id: 'gov-status' });
  if (flash) {
    status.className = 'status ok';
    setText(status, flash.key, flash.params ?? {});
  }
  const which = h('select', {}, ...recs.map((r) => h('option', { value: r.sessionId }, title(r.sessionId))));
  const until = h('input', { type: 'date' });
  const reason = h('input', { type: 'text', maxlength: 2000, autocomplete: 'off' });
  const redraw = (key: MessageKey, params?: Record<string, string>) => recordingsPage(main, { key, ...(params ? { params } : {}) });
  const extend = button('gov.extend', () => void withStatus(status, async () => {
    await api.put(governanceRoutes.retention(which.value), { until: until.value });
    await redraw('gov.extended', { date: until.value });
  }), { id: 'gov-extend', class: 'primary' });
  const hold = (on: boolean) => () => void withStatus(status, async () => {
    await api.put(governanceRoutes.legalHold(which.value), { hold: on, reason: reason.value });
    await redraw(on ? 'gov.held' : 'gov.released');
  });
  return section(
    'gov.title',
    text('gov.hint', undefined, 'p'),
    h('div', { class: 'row top' }, field('gov-recording', 'gov.recording', which), field('gov-until', 'gov.until', until), h('div', { class: 'field' }, extend)),
    h('div', { class: 'row top' }, field('gov-reason', 'gov.reason', reason), h('div', { class: 'row' }, button('gov.hold', hold(true), { id: 'gov-hold' }), button('gov.release', hold(false), { id: 'gov-release', class: 'danger' }))),
    status,
  );
}
