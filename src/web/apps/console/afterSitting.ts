import { button, h, msg, setText, text } from '../../ui/dom.ts';
import { t, type MessageKey } from '../../i18n/index.ts';
import { api, type Paged, type SessionView } from './api.ts';
import type { FollowUpView, NoticeView, OutcomeView, RegisterEntryView } from '../../../contract/views/afterSitting.ts';
import { field, section, table, withStatus } from './widgets.ts';

// After the sitting (issue 11): per-case outcomes, the conclusion notice, follow-up items and the
// Sổ tiếp công dân. The server checks every rule; these forms only collect and show.

const OUTCOMES = ['thu_ly', 'chuyen_don', 'huong_dan', 'tra_loi_truc_tiep', 'hen_tra_loi', 'tu_choi', 'khac'] as const;




// The server's views, as types only (esbuild drops the import: no zod in the bundle).
type FollowUp = FollowUpView;
type RegisterEntry = RegisterEntryView;
type Notice = NoticeView;

const dmy = (d: string | null) => (d ? `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)}` : '—');
const localToday = () => new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10);

/** A labelled control whose label follows the language; `id` must be unique on the page. */
function labelled(id: string, key: MessageKey, control: HTMLElement): HTMLElement {
  return field(id, key, control);
}

/** Files behind the bearer token: fetched, then opened (pages) or saved (exports) from a blob. */
async function openAuthenticated(path: string, download?: string): Promise<void> {
  const response = await fetch(`/api/v1${path}`, { headers: { authorization: `Bearer ${api.token ?? ''}` } });
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
    throw Object.assign(new Error(body.message ?? response.statusText), { code: body.code });
  }
  const url = URL.createObjectURL(await response.blob());
  if (download) h('a', { href: url, download }).click();
  else window.open(url, '_blank', 'noopener');
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// ——— outcomes ———

/** One form per agenda case; the fields the outcome needs are shown for it (N154 Art 25(3)). */
function outcomeForm(sessionId: string, o: OutcomeView, onSaved: (caseId: string) => void, justSaved: boolean): HTMLElement {
  const p = `outcome-${o.caseId.slice(0, 8)}`;
  const select = h('select', { required: true }, h('option', { value: '' }, msg('after.chooseOutcome')), ...OUTCOMES.map((v) => h('option', { value: v, selected: o.outcome === v }, msg(`outcome.${v}` as MessageKey))));
  const conclusion = h('textarea', { rows: 3, maxlength: 5000, required: true });
  conclusion.value = o.conclusion;
  const answer = h('textarea', { rows: 2, maxlength: 5000 });
  answer.value = o.answer;
  const deadline = h('input', { type: 'date', value: o.answerDeadline ?? '' });
  const contact = h('input', { type: 'text', maxlength: 300, value: o.contactPerson });
  const target = h('input', { type: 'text', maxlength: 300, value: o.transferTarget });
  const docNo = h('input', { type: 'text', maxlength: 60, value: o.documentNumber });
  const docDate = h('input', { type: 'date', value: o.documentDate ?? '' });
  const rows = {
    answer: labelled(`${p}-answer`, 'after.answer', answer),
    deadline: labelled(`${p}-deadline`, 'after.answerDeadline', deadline),
    contact: labelled(`${p}-contact`, 'after.contactPerson', contact),
    target: labelled(`${p}-target`, 'after.transferTarget', target),
  };
  const showFor = () => {
    const v = select.value;
    rows.answer.hidden = v !== 'tra_loi_truc_tiep';
    rows.deadline.hidden = v !== 'hen_tra_loi';
    rows.contact.hidden = v !== 'hen_tra_loi';
    rows.target.hidden = v !== 'chuyen_don';
  };
  select.addEventListener('change', showFor);
  showFor();
  const status = h('p', { class: 'status', role: 'status' });
  // The page is drawn again after a save (the follow-ups and the sổ line change with it); the form
  // just saved says so on the new page, or the officer never sees the confirmation.
  if (justSaved) {
    status.className = 'status ok';
    setText(status, 'common.saved');
  }
  const form = h(
    'form',
    { class: 'card stack', 'data-case': o.caseId, id: p },
    h('h3', {}, `${o.reference} – ${o.title}`),
    labelled(`${p}-outcome`, 'after.outcome', select),
    labelled(`${p}-conclusion`, 'after.conclusion', conclusion),
    rows.answer,
    rows.deadline,
    rows.contact,
    rows.target,
    h('div', { class: 'row' }, labelled(`${p}-docno`, 'after.documentNumber', docNo), labelled(`${p}-docdate`, 'after.documentDate', docDate)),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: `${p}-save` }, msg('after.saveOutcome'))),
    status,
  );
  setText(form.querySelector('button[type=submit]')!, 'after.saveOutcome');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = select.value;
    void withStatus(
      status,
      async () => {
        await api.put(`/sessions/${sessionId}/outcomes`, {
          outcomes: [
            {
              caseId: o.caseId,
              outcome: v,
              conclusion: conclusion.value,
              answer: v === 'tra_loi_truc_tiep' ? answer.value : '',
              answerDeadline: v === 'hen_tra_loi' && deadline.value ? deadline.value : null,
              contactPerson: v === 'hen_tra_loi' ? contact.value : '',
              transferTarget: v === 'chuyen_don' ? target.value : '',
              documentNumber: docNo.value,
              documentDate: docDate.value || null,
            },
          ],
        });
        onSaved(o.caseId);
      },
      'common.saved',
    );
  });
  return form;
}

/** The outcomes of every agenda case, for the live page's minutes box and the session page. */
export async function outcomesSection(session: SessionView, onSaved: (caseId: string) => void = () => undefined, savedCaseId?: string): Promise<HTMLElement> {
  const outcomes = await api.get(`/sessions/${session.id}/outcomes`);
  return section('after.outcomes', text('after.outcomesHint', undefined, 'p'), ...outcomes.map((o) => outcomeForm(session.id, o, onSaved, o.caseId === savedCaseId)));
}

// ——— the conclusion notice ———

export async function noticeSection(session: SessionView): Promise<HTMLElement> {
  if (!['ended', 'archived'].includes(session.status)) return section('after.notice', text('after.notice.onlyAfter', undefined, 'p'));
  const notices = await api.get(`/sessions/${session.id}/conclusion-notices`);
  const status = h('p', { class: 'status', role: 'status', id: 'notice-status' });
  const number = h('input', { type: 'text', maxlength: 60 });
  const date = h('input', { type: 'date', value: localToday() });
  const signerTitle = h('input', { type: 'text', maxlength: 200, required: true, value: t('after.notice.defaultSigner') });
  const signerName = h('input', { type: 'text', maxlength: 200, required: true });
  const recipients = h('textarea', { rows: 4 });
  recipients.value = t('after.notice.defaultRecipients');
  const body = () => ({
    number: number.value.trim(),
    issuedDate: date.value || null,
    signerTitle: signerTitle.value.trim(),
    signerName: signerName.value.trim(),
    recipients: recipients.value.split('\n').map((r) => r.trim()).filter((r) => r !== '').slice(0, 30),
  });
  const preview = button('after.notice.preview', () =>
    void withStatus(status, async () => {
      const response = await fetch(`/api/v1/sessions/${session.id}/conclusion-notices/preview`, { method: 'POST', headers: { authorization: `Bearer ${api.token ?? ''}`, 'content-type': 'application/json' }, body: JSON.stringify(body()) });
      if (!response.ok) {
        const e = (await response.json().catch(() => ({}))) as { code?: string; message?: string; details?: unknown };
        throw Object.assign(new Error(e.message ?? ''), { code: e.code, details: e.details });
      }
      const url = URL.createObjectURL(await response.blob());
      window.open(url, '_blank', 'noopener');
    }),
  { id: 'notice-preview' });
  const issue = button('after.notice.issue', () =>
    void withStatus(status, async () => {
      const issued = await api.post<Notice>(`/sessions/${session.id}/conclusion-notices`, body());
      list.replaceChildren(noticeTable([...notices, issued]));
      notices.push(issued);
      status.dataset.number = issued.number;
      setTimeout(() => setText(status, 'after.notice.issued', { number: issued.number }), 0);
    }),
  { id: 'notice-issue', class: 'primary' });
  const noticeTable = (rows: Notice[]) =>
    table('after.notice.list', rows, [
      { key: 'after.documentNumber', cell: (n) => n.number },
      { key: 'after.notice.date', cell: (n) => dmy(n.issuedDate) },
      { key: 'after.notice.signerName', cell: (n) => `${n.signerTitle} – ${n.signerName}` },
      {
        key: 'common.actions',
        cell: (n) =>
          h(
            'div',
            { class: 'row' },
            button('after.notice.print', () => void openAuthenticated(`/conclusion-notices/${n.id}/print`), { 'data-notice-print': n.id }),
            button('after.notice.pdf', () => void openAuthenticated(`/conclusion-notices/${n.id}/print.pdf`, `thong-bao-${n.number.replace(/\W+/g, '-')}.pdf`), { 'data-notice-pdf': n.id }),
          ),
      },
    ], (n) => n.id);
  const list = h('div', { id: 'notice-list' }, noticeTable(notices));
  return section(
    'after.notice',
    h('div', { class: 'row top' }, labelled('notice-number', 'after.notice.number', number), labelled('notice-date', 'after.notice.date', date)),
    h('div', { class: 'row top' }, labelled('notice-signer-title', 'after.notice.signerTitle', signerTitle), labelled('notice-signer-name', 'after.notice.signerName', signerName)),
    labelled('notice-recipients', 'after.notice.recipients', recipients),
    h('div', { class: 'row' }, preview, issue),
    status,
    list,
  );
}

// ——— the minutes: versions and the official print ———

interface MinutesVersion {
  version: number;
  sha256: string;
  length: number;
  writtenAt: string;
}

export async function minutesSection(session: SessionView): Promise<HTMLElement> {
  const versions = await api.get<MinutesVersion[]>(`/sessions/${session.id}/minutes/versions`);
  const status = h('p', { class: 'status', role: 'status' });
  return section(
    'minutes.title',
    session.status === 'archived' ? text('minutes.frozen', undefined, 'p') : null,
    table('minutes.versions', versions, [
      { key: 'minutes.version', cell: (v) => v.version, num: true },
      { key: 'minutes.savedAt', cell: (v) => new Date(v.writtenAt).toLocaleString('vi-VN') },
      { key: 'minutes.fingerprint', cell: (v) => h('code', {}, v.sha256.slice(0, 16)) },
      { key: 'common.print', cell: (v) => button('common.print', () => void withStatus(status, () => openAuthenticated(`/sessions/${session.id}/minutes/print?version=${v.version}`)), { 'data-minutes-print': v.version }) },
    ], (v) => String(v.version)),
    h('div', { class: 'row' }, button('minutes.print', () => void withStatus(status, () => openAuthenticated(`/sessions/${session.id}/minutes/print`)), { id: 'minutes-print' })),
    status,
  );
}

// ——— follow-up ———

function stateBadge(state: string): HTMLElement {
  const el = h('span', { class: `badge ${state === 'overdue' ? 'poor' : state === 'due_soon' ? 'fair' : state === 'done' ? 'good' : 'unknown'}`, 'data-state': state });
  setText(el, `followUp.state.${state}` as MessageKey);
  return el;
}

function followUpTable(caption: MessageKey, items: FollowUp[], reload: () => void): HTMLElement {
  return table(
    caption,
    items,
    [
      { key: 'followUp.case', cell: (f) => h('a', { href: `#/session/${f.sessionId}` }, `${f.caseReference} – ${f.caseTitle}`) },
      { key: 'followUp.kind', cell: (f) => text(`followUp.kind.${f.kind}` as MessageKey) },
      { key: 'followUp.due', cell: (f) => dmy(f.dueDate) },
      { key: 'followUp.left', cell: (f) => (f.state === 'done' ? '—' : f.workingDaysLeft), num: true },
      { key: 'followUp.state', cell: (f) => stateBadge(f.state) },
      {
        key: 'followUp.result',
        cell: (f) => {
          if (f.state === 'done') return f.result;
          const input = h('input', { type: 'text', maxlength: 5000, 'aria-label': msg('followUp.result'), 'data-result': f.id });
          const status = h('span', { class: 'status', role: 'status' });
          const done = button('followUp.close', () => void withStatus(status, async () => {
            await api.post(`/follow-ups/${f.id}/close`, { result: input.value });
            reload();
          }), { 'data-close': f.id });
          return h('div', { class: 'row' }, input, done, status);
        },
      },
    ],
    (f) => f.id,
  );
}

/** The console home's list: open items overdue or due within 3 working days. */
export async function dueFollowUpsPanel(): Promise<HTMLElement | null> {
  let due: { items: FollowUp[]; overdue: number; dueSoon: number };
  try {
    due = await api.get('/follow-ups/due?withinWorkingDays=3&limit=50');
  } catch {
    return null; // roles that do not follow cases up
  }
  const box = h('div', { id: 'follow-ups-due' });
  const render = (d: typeof due) =>
    box.replaceChildren(
      d.items.length === 0 ? text('followUp.none', undefined, 'p') : text('followUp.summary', { overdue: d.overdue, soon: d.dueSoon }, 'p'),
      d.items.length === 0 ? '' : followUpTable('followUp.title', d.items, () => void api.get<typeof due>('/follow-ups/due?withinWorkingDays=3&limit=50').then(render)),
    );
  render(due);
  return section('followUp.title', box);
}

/** A session's follow-up items, open and done. */
export async function sessionFollowUps(session: SessionView): Promise<HTMLElement> {
  const box = h('div', { id: 'session-follow-ups' });
  const load = async () => box.replaceChildren(followUpTable('followUp.session', (await api.get(`/follow-ups?sessionId=${session.id}&limit=200`)).items, () => void load()));
  await load();
  return section('followUp.session', box);
}

// ——— the Sổ tiếp công dân ———

function editEntryForm(entry: RegisterEntry, onSaved: () => void): HTMLElement {
  const p = `reg-${entry.id.slice(0, 8)}`;
  const names = h('textarea', { rows: 2, maxlength: 2000 });
  names.value = entry.namesAddresses ?? '';
  const ids = h('input', { type: 'text', maxlength: 500, value: entry.idNumbers ?? '' });
  const content = h('textarea', { rows: 3, maxlength: 10_000 });
  content.value = entry.content ?? '';
  const groupSize = h('input', { type: 'number', min: 1, max: 10_000, value: entry.groupSize });
  const agencies = h('input', { type: 'text', maxlength: 2000, value: entry.agenciesHandled });
  const handling = h('select', {}, ...['thu_ly', 'huong_dan', 'chuyen_don', 'khac'].map((v) => h('option', { value: v, selected: entry.handling === v }, msg(`register.handling.${v}` as MessageKey))));
  const detail = h('input', { type: 'text', maxlength: 2000, value: entry.handlingDetail });
  const tracking = h('textarea', { rows: 2, maxlength: 2000 });
  tracking.value = entry.resultTracking;
  const note = h('input', { type: 'text', maxlength: 2000, value: entry.note ?? '' });
  const status = h('p', { class: 'status', role: 'status' });
  const heading = text('register.editTitle', { reference: entry.caseReference }, 'h3');
  const form = h(
    'form',
    { class: 'card stack', id: `${p}-form` },
    heading,
    labelled(`${p}-names`, 'register.col.names', names),
    labelled(`${p}-ids`, 'register.col.id', ids),
    labelled(`${p}-content`, 'register.col.content', content),
    h('div', { class: 'row top' }, labelled(`${p}-group`, 'register.groupSize', groupSize), labelled(`${p}-agencies`, 'register.col.agencies', agencies)),
    h('div', { class: 'row top' }, labelled(`${p}-handling`, 'register.col.handling', handling), labelled(`${p}-detail`, 'register.handlingDetail', detail)),
    labelled(`${p}-tracking`, 'register.col.tracking', tracking),
    labelled(`${p}-note`, 'register.col.note', note),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: `${p}-save` }, msg('common.save'))),
    status,
  );
  setText(form.querySelector('button[type=submit]')!, 'common.save');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void withStatus(status, async () => {
      await api.patch(`/register/${entry.id}`, {
        namesAddresses: names.value,
        idNumbers: ids.value,
        content: content.value,
        groupSize: Number(groupSize.value),
        agenciesHandled: agencies.value,
        handling: handling.value,
        handlingDetail: detail.value,
        resultTracking: tracking.value,
        note: note.value,
      });
      onSaved();
    }, 'common.saved');
  });
  return form;
}

export async function registerPage(main: HTMLElement): Promise<void> {
  const today = localToday();
  const from = h('input', { type: 'date', value: `${today.slice(0, 7)}-01`, required: true });
  const to = h('input', { type: 'date', value: today, required: true });
  const status = h('p', { class: 'status', role: 'status', id: 'register-status' });
  const results = h('div', { id: 'register-results' });
  const editor = h('div', { id: 'register-editor' });
  const period = () => `from=${from.value}&to=${to.value}`;
  const canEdit = api.user?.role === 'reception_board';
  const hidden = () => h('em', { class: 'muted' }, msg('register.hidden'));
  const load = () =>
    withStatus(status, async () => {
      const page = await api.get(`/register?${period()}&limit=500`);
      editor.replaceChildren();
      results.replaceChildren(
        text('register.total', { n: page.total }, 'p'),
        table(
          'register.title',
          page.items,
          [
            { key: 'register.col.stt', cell: (e) => page.items.indexOf(e) + 1, num: true },
            { key: 'register.col.date', cell: (e) => dmy(e.receptionDate) },
            { key: 'register.col.names', cell: (e) => e.namesAddresses ?? hidden() },
            { key: 'register.col.id', cell: (e) => e.idNumbers ?? hidden() },
            { key: 'register.col.content', cell: (e) => e.content ?? h('span', {}, `${e.caseReference} `, hidden()) },
            { key: 'register.col.class', cell: (e) => `${e.classification} / ${t('register.people', { n: e.groupSize })}` },
            { key: 'register.col.agencies', cell: (e) => e.agenciesHandled },
            { key: 'register.col.handling', cell: (e) => `${t(`register.handling.${e.handling}` as MessageKey)}${e.handlingDetail ? `: ${e.handlingDetail}` : ''}` },
            { key: 'register.col.tracking', cell: (e) => e.resultTracking },
            { key: 'register.col.note', cell: (e) => e.note ?? hidden() },
            {
              key: 'common.actions',
              cell: (e) => (canEdit && !e.personalDataHidden ? button('register.edit', () => editor.replaceChildren(editEntryForm(e, () => void load())), { 'data-edit': e.id }) : ''),
            },
          ],
          (e) => e.id,
        ),
      );
    });
  const file = (suffix: string, name: string) => () => void withStatus(status, () => openAuthenticated(`/register/${suffix}?${period()}`, name ? `so-tiep-cong-dan-${from.value}-${to.value}.${name}` : undefined));
  main.replaceChildren(
    h('h2', {}, msg('register.title')),
    section(
      'register.title',
      h('div', { class: 'row top' }, labelled('register-from', 'register.from', from), labelled('register-to', 'register.to', to)),
      h(
        'div',
        { class: 'row' },
        button('register.show', () => void load(), { id: 'register-show', class: 'primary' }),
        button('register.print', file('print', ''), { id: 'register-print' }),
        button('register.pdf', file('print.pdf', 'pdf'), { id: 'register-pdf' }),
        button('register.csv', file('export.csv', 'csv'), { id: 'register-csv' }),
        button('register.xlsx', file('export.xlsx', 'xlsx'), { id: 'register-xlsx' }),
      ),
      status,
    ),
    results,
    editor,
  );
  main.querySelector('h2')!.dataset.i18n = 'register.title';
  await load();
}
