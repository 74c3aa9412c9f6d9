import { button, h, msg, setText, text } from '../../ui/dom.ts';
import { t, type MessageKey } from '../../i18n/index.ts';
import type { CaseView } from './cases.ts';
import type { BridgePointView } from '../../../contract/views/bridgePoint.ts';
import type { MatrixView } from '../../../contract/views/preflight.ts';
import { roleKey } from '../shared/tiles.ts';
import { dueFollowUpsPanel, minutesSection, noticeSection, outcomesSection, sessionFollowUps } from './afterSitting.ts';
import { api, type InvitationView, type Paged, type SessionView } from './api.ts';
import { display, field, section, statusBadge, table, when, withStatus } from './widgets.ts';

type BridgePoint = BridgePointView;
interface CaseRow {
  id: string;
  reference: string;
  type: string;
  title: string;
}

function startOfDay(d = new Date()): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

/** Sessions of today and upcoming, plus the form for a new draft. */
export async function sessionsPage(main: HTMLElement): Promise<void> {
  const today = startOfDay();
  const tomorrow = new Date(today.getTime() + 86_400_000);
  const list = await api.get(`/sessions?limit=200&from=${encodeURIComponent(new Date(today.getTime() - 86_400_000).toISOString())}`);
  const items = list.items.sort((a, b) => a.scheduledStart.localeCompare(b.scheduledStart));
  const isToday = (s: SessionView) => new Date(s.scheduledStart) < tomorrow && (new Date(s.scheduledEnd) >= today || s.status === 'live');
  const columns = [
    { key: 'sessions.time', cell: (s: SessionView) => `${when(s.scheduledStart)} – ${new Date(s.scheduledEnd).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` },
    { key: 'sessions.title', cell: (s: SessionView) => h('a', { href: `#/session/${s.id}` }, s.title) },
    { key: 'sessions.status', cell: (s: SessionView) => statusBadge(s.status) },
    {
      key: 'common.actions',
      cell: (s: SessionView) => (s.status === 'live' ? h('a', { class: 'button', href: `#/live/${s.id}` }, text('sessions.enterLive')) : h('a', { href: `#/session/${s.id}` }, text('sessions.open'))),
    },
  ];
  main.replaceChildren(
    // The home page: what the law's follow-up timers say is overdue or due soon (issue 11 item 4).
    (await dueFollowUpsPanel()) ?? '',
    section('sessions.today', table('sessions.today', items.filter(isToday), columns, (s) => s.id)),
    section('sessions.upcoming', table('sessions.upcoming', items.filter((s) => new Date(s.scheduledStart) >= tomorrow), columns, (s) => s.id)),
    await createSessionForm(),
  );
}

async function createSessionForm(): Promise<HTMLElement> {
  const status = h('p', { class: 'status', role: 'status' });
  const titleInput = h('input', { type: 'text', required: true, maxlength: 300 });
  const start = h('input', { type: 'datetime-local', required: true });
  const duration = h('input', { type: 'number', min: 15, max: 600, value: 120 });
  const chair = h('input', { type: 'text', maxlength: 200 });
  let points: BridgePoint[] = [];
  let cases: CaseRow[] = [];
  try {
    points = (await api.get('/bridge-points?limit=500&active=true')).items;
    cases = (await api.get('/cases?limit=200')).items;
  } catch {
    // a role that cannot list them sees empty choices
  }
  const pointBoxes = h('fieldset', { class: 'stack', id: 'new-session-points' }, text('sessions.bridgePoints', undefined, 'legend'));
  for (const p of points) {
    const id = `bp-${p.id}`;
    pointBoxes.append(h('div', { class: 'field inline' }, h('input', { type: 'checkbox', id, value: p.id, checked: p.kind === 'central' }), h('label', { for: id }, `${p.code} – ${p.name}`)));
  }
  const caseBoxes = h('fieldset', { class: 'stack', id: 'new-session-cases' }, text('sessions.cases', undefined, 'legend'));
  for (const c of cases) {
    const id = `case-${c.id}`;
    caseBoxes.append(h('div', { class: 'field inline' }, h('input', { type: 'checkbox', id, value: c.id }), h('label', { for: id }, `${c.reference} – ${c.title}`)));
  }
  const form = h(
    'form',
    { class: 'stack', id: 'new-session' },
    field('new-session-title', 'sessions.title', titleInput),
    h('div', { class: 'row' }, field('new-session-start', 'sessions.startsAt', start), field('new-session-duration', 'sessions.durationMin', duration), field('new-session-chair', 'sessions.chair', chair)),
    h('div', { class: 'row top' }, pointBoxes, caseBoxes),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, text('sessions.create'))),
    status,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const startsAt = new Date(start.value);
    const checked = (fs: HTMLElement) => [...fs.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
    void withStatus(status, async () => {
      const created = await api.post<SessionView>('/sessions', {
        title: titleInput.value,
        scheduledStart: startsAt.toISOString(),
        scheduledEnd: new Date(startsAt.getTime() + Number(duration.value) * 60_000).toISOString(),
        chairTitle: chair.value,
        // No chair account from here: the override on failed tests is the approver's (Chủ tịch or
        // the deputy who chairs), never the staffer creating the session (law review §5.2).
        chairUserId: null,
        bridgePointIds: checked(pointBoxes),
        caseIds: checked(caseBoxes),
        // The chair's seat at the central point: its invitation is the console's live credential.
        participants: [{ role: 'host', label: chair.value.trim() || t('role.host'), bridgePointId: points.find((p) => p.kind === 'central' && checked(pointBoxes).includes(p.id))?.id ?? null }],
      });
      location.hash = `#/session/${created.id}`;
    });
  });
  return section('sessions.create', form);
}

/** One session: its life-cycle actions, invitations with their links, pre-flight matrix, minutes. */
export async function sessionPage(main: HTMLElement, id: string, savedCaseId?: string): Promise<void> {
  const session = await api.get(`/sessions/${id}`);
  const status = h('p', { class: 'status', role: 'status', id: 'session-action-status' });
  const act = (label: Parameters<typeof button>[0], path: string, body: unknown = {}, idAttr?: string) =>
    button(
      label,
      () =>
        void withStatus(status, async () => {
          await api.post(`/sessions/${id}/${path}`, body);
          await sessionPage(main, id);
        }),
      { id: idAttr ?? `action-${path}` },
    );
  const reason = h('input', { type: 'text', id: 'override-reason', maxlength: 2000 });
  const actions = h('div', { class: 'row' });
  // What the chairman is asked to approve: each case's content, and his per-case choice.
  const casesForDecision = session.status === 'submitted' ? await proposalCases(session) : { element: null, rejected: () => [] };
  switch (session.status) {
    case 'draft':
      actions.append(act('sessions.submit', 'submit'));
      break;
    case 'submitted': {
      // The chairman's decision: approve (leaving out the cases he does not consent to, each with
      // its reason: Đ4.2), or send the whole proposal back with the reason (issue 11 item 6).
      const rejectReason = h('input', { type: 'text', id: 'reject-reason', maxlength: 2000 });
      actions.append(
        button('sessions.approve', () =>
          void withStatus(status, async () => {
            await api.post(`/sessions/${id}/decision`, { decision: 'approved', comment: '', rejectedCases: casesForDecision.rejected() });
            await sessionPage(main, id);
          }),
        { id: 'action-approve' }),
        field('reject-reason', 'sessions.rejectReason', rejectReason),
        button('sessions.reject', () =>
          void withStatus(status, async () => {
            await api.post(`/sessions/${id}/decision`, { decision: 'rejected', comment: rejectReason.value.trim() });
            await sessionPage(main, id);
          }),
        { id: 'action-reject', class: 'danger' }),
      );
      break;
    }
    case 'rejected':
      actions.append(act('sessions.reopen', 'reopen', {}, 'action-reopen'));
      break;
    case 'approved':
    case 'invitations_sent':
    case 'tested':
      actions.append(act('sessions.invite', 'invitations', {}, 'action-invite'));
      actions.append(
        button('sessions.goLive', () =>
          void withStatus(status, async () => {
            await api.post(`/sessions/${id}/go-live`, reason.value.trim() ? { override: { reason: reason.value.trim() } } : {});
            location.hash = `#/live/${id}`;
          }),
          { id: 'action-go-live', class: 'primary' },
        ),
        field('override-reason', 'sessions.override', reason),
      );
      break;
    case 'live':
      actions.append(h('a', { class: 'button primary', href: `#/live/${id}`, id: 'action-enter-live' }, text('sessions.enterLive')));
      break;
  }
  const info = table(
    session.title,
    [
      ['sessions.time', `${when(session.scheduledStart)} – ${when(session.scheduledEnd)}`],
      ['sessions.status', statusBadge(session.status)],
      ['sessions.chair', session.chairTitle || '—'],
      ['sessions.cases', session.cases.map((c) => c.reference).join(', ') || '—'],
      ['sessions.noticeDeadline', noticeDeadlineCell(session)],
    ] as [string, Node | string][],
    [
      { key: 'common.details', cell: (r) => text(r[0] as Parameters<typeof text>[0]) },
      { key: '', raw: true, cell: (r) => r[1] },
    ],
  );
  main.replaceChildren(
    h('h2', {}, session.title),
    section('sessions.status', info, session.statusReason ? h('p', { class: 'muted' }, session.statusReason) : null, actions, status),
    ...(casesForDecision.element ? [casesForDecision.element] : []),
    await invitationsSection(session),
    await preflightSection(session),
  );
  // After the sitting (issue 11): outcomes while live or ended, then follow-up and the notice.
  if (['live', 'ended'].includes(session.status)) main.append(await outcomesSection(session, (caseId) => void sessionPage(main, id, caseId), savedCaseId));
  if (['live', 'ended', 'archived'].includes(session.status)) main.append(await minutesSection(session), await sessionFollowUps(session), await noticeSection(session));
}

/**
 * The proposal as the chairman reads it (law review §5.4): each case's content (a tố cáo whose
 * denouncer did not ask for identity protection is readable to him too), with a box to leave the
 * case out and the reason for it.
 */
async function proposalCases(session: SessionView): Promise<{ element: HTMLElement; rejected: () => { caseId: string; reason: string }[] }> {
  const choices: { caseId: string; out: HTMLInputElement; reason: HTMLInputElement }[] = [];
  const items = await Promise.all(
    session.cases.map(async (entry) => {
      const c = await api.get(`/cases/${entry.caseId}`).catch(() => undefined);
      const out = h('input', { type: 'checkbox', id: `leave-out-${entry.caseId}`, 'data-leave-out': entry.reference });
      const reason = h('input', { type: 'text', maxlength: 2000, 'data-leave-out-reason': entry.reference });
      choices.push({ caseId: entry.caseId, out, reason });
      const shown = (v: string | null | undefined) => (v === null || v === undefined ? text('cases.hidden') : v || '—');
      return h(
        'article',
        { class: 'card stack', 'data-proposal-case': entry.reference },
        h('h3', {}, `${entry.reference} – ${c?.title ?? ''}`),
        h('p', { class: 'muted' }, text(`caseType.${entry.type}` as MessageKey)),
        h('dl', {}, h('dt', {}, text('cases.summary')), h('dd', {}, shown(c?.summary)), h('dt', {}, text('cases.requests')), h('dd', {}, shown(c?.requests)), h('dt', {}, text('cases.priorHandling')), h('dd', {}, shown(c?.priorHandling))),
        h('a', { href: `#/case/${entry.caseId}` }, text('sessions.openCase')),
        h('div', { class: 'field inline' }, out, h('label', { for: out.id }, text('sessions.leaveOut'))),
        field(`leave-out-reason-${entry.caseId}`, 'sessions.leaveOutReason', reason),
      );
    }),
  );
  return {
    element: section('sessions.proposal', h('p', { class: 'muted' }, text('sessions.proposalHint')), ...items),
    rejected: () => choices.filter((c) => c.out.checked).map((c) => ({ caseId: c.caseId, reason: c.reason.value.trim() })),
  };
}

/**
 * N154 Art 23(1): citizens and agencies are notified at least 5 working days before. The date is
 * shown from the start; past it, a session still waiting for its invitations carries a warning.
 */
function noticeDeadlineCell(session: SessionView): HTMLElement {
  const d = session.noticeDeadline;
  const today = new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10);
  const waiting = ['draft', 'submitted', 'approved'].includes(session.status);
  return h(
    'span',
    { id: 'notice-deadline' },
    `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)} `,
    waiting && today > d ? h('span', { class: 'badge poor', 'data-late-notice': '' }, msg('sessions.noticeLate')) : null,
  );
}

async function invitationsSection(session: SessionView): Promise<HTMLElement> {
  let invitations: InvitationView[] = [];
  try {
    invitations = await api.get(`/sessions/${session.id}/invitations`);
  } catch {
    return section('nav.invitations', text('admin.list.empty', undefined, 'p'));
  }
  const origin = location.origin;
  // A withheld token (null: the chair's, read by a technician) gives no link rather than #token=null.
  return section(
    'nav.invitations',
    table(
      'nav.invitations',
      invitations,
      [
        { key: 'sessions.bridgePoints', cell: (i) => i.displayName },
        { key: 'common.role', cell: (i) => text(roleKey(i.role)) },
        { key: 'sessions.openRoom', cell: (i) => (i.status === 'active' && i.token !== null ? h('a', { href: `${origin}/join#token=${encodeURIComponent(i.token)}`, target: '_blank', rel: 'noopener', 'data-join-link': i.role }, text('sessions.openRoom')) : i.status === 'active' ? '' : text(i.status === 'revoked' ? 'invitation.revoked' : 'invitation.expired')) },
        { key: 'nav.preflight', cell: (i) => (i.status === 'active' && i.token !== null ? h('a', { href: `${origin}/test#token=${encodeURIComponent(i.token)}`, target: '_blank', rel: 'noopener', 'data-test-link': i.role }, text('nav.preflight')) : '') },
        { key: 'common.print', cell: (i) => h('a', { href: '#', 'data-print': i.id, onclick: (ev: Event) => void printInvitation(ev, i.id) }, text('common.print')) },
      ],
      (i) => i.id,
    ),
  );
}

/** The printable invitation needs the bearer token, so it is fetched and opened as a blob. */
async function printInvitation(ev: Event, id: string): Promise<void> {
  ev.preventDefault();
  const response = await fetch(`/api/v1/invitations/${id}/print`, { headers: { authorization: `Bearer ${api.token ?? ''}` } });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  window.open(url, '_blank', 'noopener');
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

type Matrix = MatrixView;
type SlotKind = MatrixView['slots'][number]['kind'];

async function preflightSection(session: SessionView): Promise<HTMLElement> {
  let matrix: Matrix;
  try {
    matrix = await api.get(`/sessions/${session.id}/preflight`);
  } catch {
    return section('nav.preflight', text('admin.list.empty', undefined, 'p'));
  }
  const columns = [
    { key: 'sessions.bridgePoints', cell: (p: Matrix['points'][number]) => `${p.code} – ${p.name}` },
    ...matrix.slots.map((slot) => ({
      // The slot's name from the catalogue (it follows the language switch), then its time.
      key: slot.kind,
      label: () => `${t(`preflight.slot.${slot.kind}`)} (${when(slot.startsAt)})`,
      raw: true,
      cell: (p: Matrix['points'][number]) => {
        const cell = p.cells.find((c) => c.slotId === slot.id);
        const st = cell?.status ?? 'pending';
        const badge = h('span', { class: `badge ${st === 'passed' ? 'good' : st === 'failed' ? 'poor' : 'unknown'}` });
        setText(badge, st === 'passed' ? 'preflight.pass' : st === 'failed' ? 'preflight.fail' : 'preflight.pending');
        return badge;
      },
    })),
    // Words, not the API's codes (law review §3: "passed/failed/none" showed on a Vietnamese page).
    { key: 'sessions.status', cell: (p: Matrix['points'][number]) => text(p.latest === 'passed' ? 'preflight.pass' : p.latest === 'failed' ? 'preflight.fail' : 'preflight.pending') },
    // The go-live rule (issue 11 item 7): which required slot a point still lacks.
    {
      key: 'preflight.gate',
      raw: false,
      cell: (p: Matrix['points'][number]) => {
        const gap = matrix.goLiveGaps.find((g) => g.bridgePointId === p.bridgePointId);
        const cell = h('span', { 'data-gate': gap ? 'missing' : 'ready' });
        if (gap === undefined) setText(cell, 'preflight.gate.ready');
        else cell.append(text('preflight.gate.missing'), ' ', ...gap.missing.flatMap((k, i) => [i > 0 ? ', ' : '', text(`preflight.slot.${k}`)]));
        return cell;
      },
    },
  ];
  return section('nav.preflight', table('nav.preflight', matrix.points, columns, (p) => p.bridgePointId));
}
