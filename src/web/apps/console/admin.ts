import { button, h, setText, text } from '../../ui/dom.ts';
import { t, type MessageKey } from '../../i18n/index.ts';
import { api, type Paged, type SessionView } from './api.ts';
import { followJob, recordingRoutes, type ExportDestinations, type Job, type RecordingSummary } from './recordingApi.ts';
import { formatBytes } from '../../i18n/index.ts';
import { codeLabel, display, field, fieldColumn, section, table, withStatus, type Column } from './widgets.ts';

type Row = Record<string, unknown>;

/** Columns shown for each administered list (field names of the control API). */
const LISTS: Record<string, { title: MessageKey; path: string; fields: string[] }> = {
  'bridge-points': { title: 'nav.bridgePoints', path: '/bridge-points?limit=200', fields: ['code', 'name', 'kind', 'contactName', 'contactPhone', 'networkNotes', 'isSample', 'active'] },
  users: { title: 'nav.users', path: '/users?limit=200', fields: ['username', 'displayName', 'role', 'active', 'lastLoginAt'] },
};

function rowsOf(answer: unknown): Row[] {
  if (Array.isArray(answer)) return answer as Row[];
  const items = (answer as { items?: unknown }).items;
  return Array.isArray(items) ? (items as Row[]) : [];
}

interface FormField {
  name: string;
  type: 'text' | 'password' | 'select';
  options?: string[];
  required?: boolean;
}

/** What can be added from the console (the rest is edited through the API, documented at /docs). */
const FORMS: Record<string, { path: string; fields: FormField[] }> = {
  'bridge-points': {
    path: '/bridge-points',
    fields: [
      { name: 'code', type: 'text', required: true },
      { name: 'name', type: 'text', required: true },
      { name: 'kind', type: 'select', options: ['commune', 'ward', 'central', 'agency'] },
      { name: 'contactName', type: 'text' },
      { name: 'contactPhone', type: 'text' },
      { name: 'networkNotes', type: 'text' },
    ],
  },
  users: {
    path: '/users',
    fields: [
      { name: 'username', type: 'text', required: true },
      { name: 'displayName', type: 'text', required: true },
      { name: 'role', type: 'select', options: ['reception_board', 'inspectorate', 'approver', 'technician', 'commune_operator', 'auditor', 'admin'] },
      { name: 'password', type: 'password', required: true },
    ],
  },
};

function createForm(name: string, onCreated: () => void): HTMLElement | null {
  const spec = FORMS[name];
  if (!spec) return null;
  const status = h('p', { class: 'status', role: 'status' });
  const controls = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const form = h('form', { class: 'stack', id: `create-${name}` });
  const row = h('div', { class: 'row top' });
  for (const f of spec.fields) {
    const id = `create-${name}-${f.name}`;
    const control =
      f.type === 'select'
        ? h('select', {}, ...(f.options ?? []).map((o) => h('option', { value: o }, codeLabel(o))))
        : h('input', { type: f.type, required: f.required ?? false, autocomplete: f.type === 'password' ? 'new-password' : 'off' });
    controls.set(f.name, control);
    const key = `field.${f.name}` as MessageKey;
    row.append(field(id, t(key) !== key ? key : 'common.details', control));
  }
  form.append(row, h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, text('common.create'))), status);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body: Record<string, string> = {};
    for (const [k, c] of controls) if (c.value.trim() !== '') body[k] = c.value.trim();
    void withStatus(status, async () => {
      await api.post(spec.path, body);
      onCreated();
    }, 'common.saved');
  });
  return section('admin.form.title', form);
}

function csvImport(onDone: () => void): HTMLElement {
  const status = h('p', { class: 'status', role: 'status' });
  const area = h('textarea', { rows: 5, class: 'minutes', placeholder: 'code,name,kind\nX03,UBND xã …,commune' });
  const file = h('input', { type: 'file', accept: '.csv,text/csv' });
  file.addEventListener('change', () => void file.files?.[0]?.text().then((v) => (area.value = v)));
  return section(
    'admin.csv.title',
    field('csv-file', 'admin.csv.file', file),
    field('csv-text', 'admin.csv.text', area),
    h('div', { class: 'row' }, button('admin.csv.import', () => void withStatus(status, async () => {
      await api.postText('/bridge-points/import', area.value, 'text/csv; charset=utf-8');
      onDone();
    }, 'common.saved'), { class: 'primary' })),
    status,
  );
}

/** A list of what the control API manages, with an "add" form where the console offers one. */
export async function listPage(main: HTMLElement, name: string): Promise<void> {
  const spec = LISTS[name];
  if (!spec) return;
  const rows = rowsOf(await api.get<unknown>(spec.path));
  const columns: Column<Row>[] = spec.fields.map((f) => fieldColumn<Row>(f, (r) => (f === 'type' || f === 'kind' || f === 'role' ? codeLabel(String(r[f])) : display(r[f]))));
  const reload = () => void listPage(main, name);
  main.replaceChildren(section(spec.title, table(spec.title, rows, columns, (r) => String(r.id ?? ''))), createForm(name, reload) ?? '', name === 'bridge-points' ? csvImport(reload) : '');
}

export async function auditPage(main: HTMLElement): Promise<void> {
  const status = h('p', { class: 'status', role: 'status', id: 'audit-verify-status' });
  const rows = rowsOf(await api.get<unknown>('/audit?limit=100'));
  const verify = button(
    'audit.verify',
    () =>
      void (async () => {
        const ok = await withStatus(status, async () => {
          const r = await api.get<{ valid: boolean; checked: number; firstBrokenSeq: number | null; reason: string | null }>('/audit/verify');
          if (!r.valid) throw new Error(t('audit.broken', { details: `#${r.firstBrokenSeq ?? '?'}: ${r.reason ?? ''}` }));
        }, 'audit.ok');
        status.dataset.valid = String(ok);
      })(),
    { id: 'audit-verify' },
  );
  const fields = ['seq', 'at', 'actorLabel', 'action', 'entity', 'entityId'];
  const columns: Column<Row>[] = fields.map((f) => fieldColumn<Row>(f));
  main.replaceChildren(section('nav.audit', h('div', { class: 'row' }, verify), status, table('nav.audit', rows, columns)));
}

export async function reportPage(main: HTMLElement): Promise<void> {
  const year = new Date().getFullYear();
  const yearInput = h('input', { type: 'number', id: 'report-year', value: year, min: 2020, max: 2100 });
  const out = h('div', { class: 'stack', id: 'report-out' });
  const csv = h('a', { class: 'button', href: '#', id: 'report-csv' }, text('report.csv'));
  const load = async () => {
    const report = await api.get<Row>(`/reports/annual?year=${yearInput.value}`);
    const label = (k: string) => {
      const key = `field.${k}` as MessageKey;
      return t(key) !== key ? t(key) : codeLabel(k);
    };
    const value = (v: unknown): string =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? Object.entries(v as Row)
            .map(([k, n]) => `${codeLabel(k)}: ${typeof n === 'object' && n !== null ? Object.entries(n as Row).map(([a, b]) => `${codeLabel(a)} ${display(b)}`).join(', ') : display(n)}`)
            .join('; ')
        : display(v);
    out.replaceChildren(
      ...Object.entries(report).map(([key, v]) =>
        typeof v === 'object' && v !== null && !Array.isArray(v)
          ? h('div', {}, h('h3', {}, label(key)), table(label(key), Object.entries(v as Row), [
              { key: 'common.details', cell: (r) => label(r[0]) },
              { key: 'report.value', cell: (r) => value(r[1]), num: true },
            ]))
          : h('p', {}, h('strong', {}, `${label(key)}: `), display(v)),
      ),
    );
  };
  csv.addEventListener('click', (ev) => {
    ev.preventDefault();
    void (async () => {
      const response = await fetch(`/api/v1/reports/annual.csv?year=${yearInput.value}`, { headers: { authorization: `Bearer ${api.token ?? ''}` } });
      const url = URL.createObjectURL(await response.blob());
      const a = h('a', { href: url, download: `bao-cao-${yearInput.value}.csv` });
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 30_000);
    })();
  });
  const label = h('label', { for: 'report-year' });
  setText(label, 'report.year');
  yearInput.addEventListener('change', () => void load());
  main.replaceChildren(section('nav.report', h('div', { class: 'row' }, label, yearInput, csv), out));
  await load();
}

/** Recordings with their playable copy (played in the page), verification and export with progress. */
export async function recordingsPage(main: HTMLElement): Promise<void> {
  const recs = rowsOf(await api.get<unknown>(recordingRoutes.list())) as unknown as RecordingSummary[];
  let titles = new Map<string, string>();
  try {
    titles = new Map((await api.get<Paged<SessionView>>('/sessions?limit=200')).items.map((s) => [s.id, s.title]));
  } catch {
    // titles are a convenience
  }
  const player = h('video', { controls: true, id: 'recording-player', preload: 'metadata', hidden: true, class: 'player' });
  const status = h('p', { class: 'status', role: 'status', id: 'recordings-status' });
  const bar = h('div');
  const progress = h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0, hidden: true, id: 'job-progress' }, bar);
  const showJob = (job: Job) => {
    const pct = Math.round(job.progress.fraction * 100);
    progress.hidden = job.status !== 'running';
    bar.style.width = `${pct}%`;
    progress.setAttribute('aria-valuenow', String(pct));
    status.className = 'status';
    setText(status, 'recordings.exportProgress', { percent: pct });
  };
  // Exports go only to a drive the server lists (mounted under EXPORT_DESTINATIONS), and are always
  // encrypted: the passphrase travels to the recipient separately. Roles that may not export get no list.
  const drives = await api.get<ExportDestinations>(recordingRoutes.exportDestinations()).catch(() => undefined);
  const target = h('select', {}, ...(drives?.destinations ?? []).map((d) => h('option', { value: d.path }, `${d.path} (${d.source}, ${formatBytes(d.freeBytes)})`)));
  const passphrase = h('input', { type: 'password', minlength: 8, autocomplete: 'new-password' });
  const exportControls = drives
    ? h(
        'div',
        { class: 'row' },
        drives.destinations.length > 0 ? field('export-target', 'recordings.exportTarget', target) : text(drives.roots.length > 0 ? 'recordings.noDrive' : 'recordings.exportsOff', { roots: drives.roots.join(', ') }, 'p'),
        field('export-passphrase', 'recordings.exportPassphrase', passphrase),
      )
    : null;
  const rows = table('recordings.title', recs, [
    { key: 'sessions.title', cell: (r) => titles.get(r.sessionId) ?? r.sessionId },
    { key: 'sessions.status', cell: (r) => codeLabel(r.status) },
    { key: 'sessions.time', cell: (r) => `${display(r.startedAt)} – ${display(r.closedAt)}` },
    { key: 'field.bytes', cell: (r) => formatBytes(r.bytes), num: true },
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
            if (!report.ok) throw new Error(t('recordings.verifyFail', { details: display(report.problems) }));
          }, 'recordings.verifyOk'), { 'data-verify': r.sessionId }),
          drives && button('recordings.export', () => void withStatus(status, async () => {
            const job = await api.post<Job>(recordingRoutes.exports(), { kind: 'directory', sessionIds: [r.sessionId], destination: target.value, passphrase: passphrase.value });
            const done = await followJob(job.id, showJob);
            if (done.status === 'failed') throw new Error(done.error?.message ?? 'failed');
          }, 'common.saved'), { 'data-export': r.sessionId }),
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
  );
}
