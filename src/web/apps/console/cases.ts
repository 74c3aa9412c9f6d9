// Why one file: the cases page is one list-and-form screen (filters, list, the case form with its
// people, 400 errors mapped to fields); the widgets it uses live in ui/ and shared/.
import './cases.css';
import { button, dyn, h, msg, setText, setTextLocalized, text } from '../../ui/dom.ts';
import { t, type MessageKey } from '../../i18n/index.ts';
import { api, type Paged, type SessionView } from './api.ts';
import { plainError } from './plainErrors.ts';
import { field, section, statusBadge, table, when, withStatus } from './widgets.ts';
import type { BridgePointView } from '../../../contract/views/bridgePoint.ts';
import type { CaseView } from '../../../contract/views/case.ts';

export type { CaseView };


type BridgePoint = BridgePointView;

const CASE_TYPES = ['khieu_nai', 'to_cao', 'kien_nghi', 'phan_anh'] as const;
const CRITERIA = ['a', 'b', 'c', 'd'] as const;
const PERSON_ROLES = ['complainant', 'denouncer', 'petitioner', 'representative', 'authorised_person', 'lawyer', 'legal_aid', 'interpreter', 'group_representative'] as const;
const PAGE_SIZE = 20;
/** Roles that may record cases (the API's `organisers`); the others only read. */
const CASE_WRITERS = ['reception_board', 'inspectorate'];

const typeLabel = (type: string) => t(`caseType.${type}` as MessageKey);
const personRoleLabel = (role: string) => {
  const key = `personRole.${role}` as MessageKey;
  return t(key) !== key ? t(key) : role;
};

/** A withheld value: the API sends null to roles that may not see it. */
function hidden(): HTMLElement {
  const el = text('cases.hidden', undefined, 'span');
  el.className = 'withheld';
  return el;
}

function shown(value: string | null, empty = '—'): Node {
  if (value === null) return hidden();
  return document.createTextNode(value.trim() === '' ? empty : value);
}

async function bridgePoints(): Promise<BridgePoint[]> {
  try {
    return (await api.get('/bridge-points?limit=500')).items;
  } catch {
    return []; // a name is a convenience; the id still shows
  }
}

/** Each case's latest session (status and outcome), from the sessions list every case reader may see. */
async function sessionsByCase(): Promise<Map<string, { session: SessionView; outcome: string | null }[]>> {
  const byCase = new Map<string, { session: SessionView; outcome: string | null }[]>();
  try {
    const sessions = (await api.get('/sessions?limit=500')).items;
    sessions.sort((a, b) => b.scheduledStart.localeCompare(a.scheduledStart));
    for (const s of sessions) for (const c of s.cases) byCase.set(c.caseId, [...(byCase.get(c.caseId) ?? []), { session: s, outcome: c.outcome }]);
  } catch {
    // without sessions the column stays empty
  }
  return byCase;
}

function outcomeLabel(outcome: string): string {
  const key = `outcome.${outcome}` as MessageKey;
  return t(key) !== key ? t(key) : outcome;
}

function sessionCell(entries: { session: SessionView; outcome: string | null }[] | undefined): Node {
  const latest = entries?.[0];
  if (!latest) return text('cases.notScheduled', undefined, 'span');
  return h(
    'span',
    { class: 'case-session' },
    h('a', { href: `#/session/${latest.session.id}` }, latest.session.title),
    ' ',
    statusBadge(latest.session.status),
    latest.outcome ? h('span', { class: 'muted' }, dyn(() => ` ${t('cases.outcome', { outcome: outcomeLabel(latest.outcome ?? '') })}`)) : null,
  );
}

function criteriaCell(criteria: string[]): Node {
  if (criteria.length === 0) {
    const el = text('cases.noCriteria');
    el.className = 'badge poor';
    return el;
  }
  return document.createTextNode(criteria.join(', '));
}

/** The list of cases: type filter, paging, and (for the roles that may) the way to record one. */
export async function casesPage(main: HTMLElement): Promise<void> {
  const [points, sessions] = await Promise.all([bridgePoints(), sessionsByCase()]);
  const pointName = new Map(points.map((p) => [p.id, `${p.code} – ${p.name}`]));
  let offset = 0;
  const filter = h('select', {}, h('option', { value: '' }, msg('cases.allTypes')), ...CASE_TYPES.map((type) => h('option', { value: type }, dyn(() => typeLabel(type)))));
  const listArea = h('div', { class: 'stack', id: 'cases-list', 'aria-live': 'polite' });
  const count = h('p', { class: 'muted', id: 'cases-count' });
  const pageInfo = h('span', { id: 'cases-page' });
  const prev = button('common.prev', () => void load(offset - PAGE_SIZE), { id: 'cases-prev' });
  const next = button('common.next', () => void load(offset + PAGE_SIZE), { id: 'cases-next' });
  const error = h('p', { class: 'status', role: 'alert' });

  async function load(at: number): Promise<void> {
    offset = Math.max(0, at);
    const query = `limit=${PAGE_SIZE}&offset=${offset}${filter.value ? `&type=${filter.value}` : ''}`;
    try {
      const page = await api.get(`/cases?${query}`);
      error.className = 'status';
      error.textContent = '';
      const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
      setText(count, 'cases.count', { total: page.total });
      setText(pageInfo, 'cases.pageOf', { page: Math.floor(offset / PAGE_SIZE) + 1, pages });
      prev.disabled = offset === 0;
      next.disabled = offset + PAGE_SIZE >= page.total;
      listArea.replaceChildren(
        table(
          'cases.title',
          page.items,
          [
            { key: 'cases.reference', cell: (c) => h('a', { href: `#/case/${c.id}`, 'data-case-link': c.reference }, c.reference) },
            { key: 'cases.type', cell: (c) => typeLabel(c.type) },
            { key: 'field.title', cell: (c) => c.title },
            { key: 'field.criteria', cell: (c) => criteriaCell(c.criteria) },
            { key: 'cases.commune', cell: (c) => (c.communeBridgePointId ? (pointName.get(c.communeBridgePointId) ?? c.communeBridgePointId) : '—') },
            { key: 'field.groupSize', cell: (c) => c.groupSize, num: true },
            { key: 'cases.session', cell: (c) => sessionCell(sessions.get(c.id)) },
          ],
          (c) => c.id,
        ),
      );
    } catch (err) {
      error.className = 'status error';
      error.textContent = plainError(err).text;
    }
  }

  filter.addEventListener('change', () => void load(0));
  const canWrite = CASE_WRITERS.includes(api.user?.role ?? '');
  const tools = h(
    'div',
    { class: 'row' },
    field('cases-filter-type', 'cases.filterType', filter),
    h('div', { class: 'grow' }),
    canWrite ? h('a', { class: 'button primary', href: '#/cases/new', id: 'cases-new' }, text('cases.new')) : text('cases.readOnly', undefined, 'p'),
  );
  main.replaceChildren(section('cases.title', tools, count, listArea, h('div', { class: 'row' }, prev, pageInfo, next), error));
  await load(0);
}

/** The form that records a case (`POST /cases`); the server's refusals come back in plain words. */
export async function newCasePage(main: HTMLElement): Promise<void> {
  const points = await bridgePoints();
  const status = h('div', { class: 'status', role: 'alert', id: 'case-form-status' });
  const input = (attrs: Record<string, string | number | boolean> = {}) => h('input', { type: 'text', autocomplete: 'off', ...attrs });
  const area = (rows = 3) => h('textarea', { rows });

  const type = h('select', {}, ...CASE_TYPES.map((c) => h('option', { value: c }, dyn(() => typeLabel(c)))));
  const reference = input({ maxlength: 60, 'aria-describedby': 'case-reference-hint' });
  const title = input({ required: true, maxlength: 300 });
  const summary = area(4);
  const commune = h('select', {}, h('option', { value: '' }, msg('cases.noCommune')), ...points.filter((p) => p.kind !== 'central').map((p) => h('option', { value: p.id }, `${p.code} – ${p.name}`)));
  const agencies = area(3);
  const priorHandling = area(3);
  const requests = area(3);
  const groupSize = input({ type: 'number', min: 1, max: 10000, value: 1 });
  const criteriaNote = input({ maxlength: 2000 });

  const criteriaMissing = h('p', { class: 'status warn', role: 'status', id: 'case-criteria-missing' });
  const criteriaBoxes = CRITERIA.map((c) => h('input', { type: 'checkbox', id: `case-criterion-${c}`, value: c }));
  const criteria = h(
    'fieldset',
    { class: 'stack criteria', id: 'case-criteria' },
    text('cases.criteria', undefined, 'legend'),
    ...criteriaBoxes.map((box, i) => h('div', { class: 'check' }, box, h('label', { for: box.id }, text(`cases.criterion.${CRITERIA[i]}` as MessageKey)))),
    field('case-criteria-note', 'cases.criteriaNote', criteriaNote),
    criteriaMissing,
  );
  const showCriteriaHint = () => {
    if (criteriaBoxes.some((b) => b.checked)) criteriaMissing.textContent = '';
    else setText(criteriaMissing, 'cases.criteriaMissing');
  };
  for (const box of criteriaBoxes) box.addEventListener('change', showCriteriaHint);
  showCriteriaHint();

  const waived = h('input', { type: 'checkbox', id: 'case-waiver' });
  const waiverNote = input({ maxlength: 2000 });
  const waiver = h(
    'fieldset',
    { class: 'stack', id: 'case-waiver-box' },
    text('cases.waiver', undefined, 'legend'),
    h('div', { class: 'check' }, waived, h('label', { for: 'case-waiver' }, text('cases.waiverCheck'))),
    h('p', { class: 'muted' }, text('cases.waiverHint')),
    field('case-waiver-note', 'cases.waiverNote', waiverNote),
  );

  // The people: one block per person, numbered; ids stay unique as people are added and removed.
  const peopleList = h('div', { class: 'stack', id: 'case-people' });
  let personSeq = 0;
  const renumber = () => {
    [...peopleList.children].forEach((block, i) => {
      const legend = block.querySelector('legend');
      if (legend) setText(legend, 'cases.person', { n: i + 1 });
      const remove = block.querySelector<HTMLButtonElement>('button[data-remove]');
      if (remove) setText(remove, 'cases.removePerson', { n: i + 1 });
    });
  };
  const addPerson = (role: string) => {
    const n = personSeq++;
    const id = (name: string) => `case-person-${n}-${name}`;
    const roleSelect = h('select', { 'data-person': 'role' }, ...PERSON_ROLES.map((r) => h('option', { value: r, selected: r === role }, dyn(() => personRoleLabel(r)))));
    const control = (name: string, attrs: Record<string, string | number | boolean> = {}) => input({ 'data-person': name, ...attrs });
    const block = h(
      'fieldset',
      { class: 'person', 'data-person-block': n },
      h('legend'),
      h(
        'div',
        { class: 'person-grid' },
        field(id('role'), 'cases.person.role', roleSelect),
        field(id('fullName'), 'cases.person.fullName', control('fullName', { required: true, maxlength: 200, autocomplete: 'off' })),
        field(id('idNumber'), 'cases.person.idNumber', control('idNumber', { maxlength: 40, inputmode: 'numeric' })),
        field(id('phone'), 'cases.person.phone', control('phone', { type: 'tel', maxlength: 40 })),
        field(id('address'), 'cases.person.address', control('address', { maxlength: 300 })),
        field(id('note'), 'cases.person.note', control('note', { maxlength: 1000 })),
      ),
      button('cases.removePerson', () => {
        block.remove();
        renumber();
        (peopleList.querySelector<HTMLElement>('input, select') ?? addButton).focus();
      }, { 'data-remove': n, class: 'danger' }),
    );
    peopleList.append(block);
    renumber();
    return block;
  };
  const addButton = button('cases.addPerson', () => addPerson(type.value === 'to_cao' ? 'denouncer' : 'representative').querySelector<HTMLElement>('select')?.focus(), { id: 'case-add-person' });
  const defaultRole = () => (type.value === 'to_cao' ? 'denouncer' : type.value === 'khieu_nai' ? 'complainant' : 'petitioner');
  addPerson(defaultRole());

  const onType = () => {
    waiver.hidden = type.value !== 'to_cao';
    // The first person's capacity follows the case type until the officer changes it.
    const first = peopleList.querySelector<HTMLSelectElement>('select[data-person=role]');
    if (first && first.dataset.touched !== 'true') first.value = defaultRole();
  };
  peopleList.addEventListener('change', (ev) => {
    const target = ev.target as HTMLElement;
    if (target.dataset.person === 'role') target.dataset.touched = 'true';
  });
  type.addEventListener('change', onType);
  onType();

  const referenceField = field('case-reference', 'cases.reference', reference);
  referenceField.append(h('span', { class: 'muted hint', id: 'case-reference-hint' }, text('cases.referenceHint')));
  const controls: Record<string, HTMLElement> = { reference, type, title, summary, communeBridgePointId: commune, agencies, priorHandling, requests, groupSize, criteriaNote, waiverNote };
  const form = h(
    'form',
    { class: 'stack case-form', id: 'case-form' },
    h('div', { class: 'row top' }, field('case-type', 'cases.type', type), referenceField),
    field('case-title', 'cases.titleField', title),
    field('case-summary', 'cases.summary', summary),
    criteria,
    h('div', { class: 'row top' }, field('case-commune', 'cases.commune', commune), field('case-group-size', 'cases.groupSize', groupSize)),
    h('div', { class: 'form-cols' }, field('case-agencies', 'cases.agencies', agencies), field('case-prior', 'cases.priorHandling', priorHandling), field('case-requests', 'cases.requests', requests)),
    waiver,
    h('fieldset', { class: 'stack' }, text('cases.people', undefined, 'legend'), peopleList, h('div', { class: 'row' }, addButton)),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary big', id: 'case-save' }, text('cases.save')), h('a', { href: '#/cases' }, text('cases.back'))),
    status,
  );

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    const people = [...peopleList.querySelectorAll<HTMLElement>('[data-person-block]')].map((block) => {
      const value = (name: string) => block.querySelector<HTMLInputElement | HTMLSelectElement>(`[data-person=${name}]`)?.value ?? '';
      return { role: value('role'), fullName: value('fullName'), idNumber: value('idNumber').trim(), address: value('address').trim(), phone: value('phone').trim(), note: value('note').trim() };
    });
    const body = {
      ...(reference.value.trim() !== '' ? { reference: reference.value.trim() } : {}),
      type: type.value,
      title: title.value,
      summary: summary.value,
      criteria: criteriaBoxes.filter((b) => b.checked).map((b) => b.value),
      criteriaNote: criteriaNote.value,
      communeBridgePointId: commune.value || null,
      agencies: agencies.value.split('\n').map((a) => a.trim()).filter((a) => a !== ''),
      priorHandling: priorHandling.value,
      requests: requests.value,
      groupSize: Number(groupSize.value || '1'),
      identityProtectionWaived: type.value === 'to_cao' && waived.checked,
      waiverNote: type.value === 'to_cao' ? waiverNote.value : '',
      people,
    };
    status.className = 'status';
    status.textContent = '…';
    void api.post<CaseView>('/cases', body).then(
      (created) => {
        location.hash = `#/case/${created.id}`;
      },
      (err: unknown) => {
        const plain = plainError(err);
        status.className = 'status error';
        status.dataset.code = (err as { code?: string }).code ?? '';
        setTextLocalized(status, () => t('common.error', { message: plainError(err).text }));
        // Point at the fields the server named, so a keyboard user lands on the first one.
        const marked = plain.fields.map((pointer) => markInvalid(pointer)).filter((el): el is HTMLElement => el !== undefined);
        marked[0]?.focus();
      },
    );
  });

  function markInvalid(pointer: string): HTMLElement | undefined {
    const parts = pointer.split('/').filter((p) => p !== '');
    let el: HTMLElement | null | undefined;
    if (parts[0] === 'people' && parts[1] !== undefined) {
      const block = peopleList.querySelectorAll<HTMLElement>('[data-person-block]')[Number(parts[1])];
      el = parts[2] ? block?.querySelector<HTMLElement>(`[data-person=${parts[2]}]`) : block?.querySelector<HTMLElement>('input');
    } else if (parts[0] === 'criteria') el = criteriaBoxes[0];
    else el = parts[0] ? controls[parts[0]] : undefined;
    el?.setAttribute('aria-invalid', 'true');
    return el ?? undefined;
  }

  main.replaceChildren(section('cases.new', form));
  type.focus();
}

/** A description list: each label a <dt> that follows the language switch, each value a <dd>. */
function dl(rows: [MessageKey, Node | string][]): HTMLElement {
  const list = h('dl', { class: 'facts' });
  for (const [key, value] of rows) {
    const dt = h('dt');
    setText(dt, key);
    list.append(dt, h('dd', {}, value));
  }
  return list;
}

/**
 * Editing a case's own fields (PATCH /cases/:id; the people are changed through the API, which
 * replaces the whole list). Only changed fields are sent: a field this role cannot see arrives as
 * null, is shown empty, and stays as it is unless the officer writes something into it.
 */
function caseEditForm(c: CaseView, onSaved: () => Promise<void>): HTMLElement {
  const status = h('p', { class: 'status', role: 'status', id: 'case-edit-status' });
  const input = (value: string | null) => h('input', { type: 'text', value: value ?? '', autocomplete: 'off' });
  const area = (value: string | null) => {
    const el = h('textarea', { rows: 3 });
    el.value = value ?? '';
    return el;
  };
  const controls = {
    title: input(c.title),
    summary: area(c.summary),
    agencies: area(c.agencies.join('\n')),
    priorHandling: area(c.priorHandling),
    requests: area(c.requests),
    groupSize: h('input', { type: 'number', min: 1, max: 10000, value: c.groupSize }),
  };
  const form = h(
    'form',
    { class: 'stack', id: 'case-edit' },
    h('p', { class: 'muted' }, text('edit.caseHint')),
    field('case-edit-title', 'cases.titleField', controls.title),
    field('case-edit-summary', 'cases.summary', controls.summary),
    h('div', { class: 'form-cols' }, field('case-edit-agencies', 'cases.agencies', controls.agencies), field('case-edit-prior', 'cases.priorHandling', controls.priorHandling), field('case-edit-requests', 'cases.requests', controls.requests)),
    field('case-edit-group-size', 'cases.groupSize', controls.groupSize),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'case-edit-save' }, text('edit.save'))),
    status,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body: Record<string, unknown> = {};
    if (controls.title.value.trim() !== c.title) body.title = controls.title.value.trim();
    for (const k of ['summary', 'priorHandling', 'requests'] as const) if (controls[k].value !== (c[k] ?? '')) body[k] = controls[k].value;
    const agencies = controls.agencies.value.split('\n').map((a) => a.trim()).filter((a) => a !== '');
    if (agencies.join('\n') !== c.agencies.join('\n')) body.agencies = agencies;
    if (Number(controls.groupSize.value) !== c.groupSize) body.groupSize = Number(controls.groupSize.value);
    if (Object.keys(body).length === 0) {
      setText(status, 'edit.nothing');
      return;
    }
    void withStatus(status, async () => {
      await api.patch(`/cases/${c.id}`, body);
      await onSaved();
    });
  });
  return section('edit.case', form);
}

/** One case; whatever the API withholds for this role is marked, not left blank. */
export async function casePage(main: HTMLElement, id: string, saved = false): Promise<void> {
  const [c, points, sessions] = await Promise.all([api.get(`/cases/${id}`), bridgePoints(), sessionsByCase()]);
  const point = points.find((p) => p.id === c.communeBridgePointId);
  const criteriaList =
    c.criteria.length === 0
      ? criteriaCell([])
      : h('ul', { class: 'criteria-list' }, ...c.criteria.map((k) => h('li', { 'data-criterion': k }, text(`cases.criterion.${k}` as MessageKey))));
  const facts = dl([
    ['cases.reference', c.reference],
    ['cases.type', h('span', {}, dyn(() => typeLabel(c.type)))],
    ['field.title', c.title],
    ['cases.criteria', criteriaList],
    ...(c.criteriaNote ? [['cases.criteriaNote', c.criteriaNote] as [MessageKey, string]] : []),
    ['cases.commune', point ? `${point.code} – ${point.name}` : (c.communeBridgePointId ?? '—')],
    ['cases.agenciesLabel', c.agencies.length > 0 ? c.agencies.join('; ') : '—'],
    ['field.groupSize', String(c.groupSize)],
    ['cases.summary', shown(c.summary)],
    ['cases.priorHandling', shown(c.priorHandling)],
    ['cases.requests', shown(c.requests)],
    ...(c.type === 'to_cao'
      ? [['cases.waiver', h('span', {}, text(c.identityProtectionWaived ? 'cases.waived' : 'cases.notWaived'), c.waiverNote ? ` (${c.waiverNote})` : '')] as [MessageKey, Node]]
      : []),
    ['cases.createdAt', when(c.createdAt)],
  ]);
  const people =
    c.people.length === 0
      ? text('cases.noPeople', undefined, 'p')
      : table(
          'cases.people',
          c.people,
          [
            { key: 'cases.person.role', cell: (p) => personRoleLabel(p.role) },
            { key: 'cases.person.fullName', cell: (p) => shown(p.fullName) },
            { key: 'cases.person.idNumber', cell: (p) => shown(p.idNumber) },
            { key: 'cases.person.address', cell: (p) => shown(p.address) },
            { key: 'cases.person.phone', cell: (p) => shown(p.phone) },
            { key: 'cases.person.note', cell: (p) => shown(p.note) },
          ],
          (p) => p.id,
        );
  const onSessions = sessions.get(c.id) ?? [];
  const heading = section('cases.title', h('p', {}, h('a', { href: '#/cases', id: 'case-back' }, text('cases.back'))));
  const title = heading.querySelector('h2');
  if (title) setText(title, 'cases.detail', { reference: c.reference });
  if (saved) heading.append(h('p', { class: 'status ok', role: 'status', id: 'case-saved' }, msg('common.saved')));
  main.replaceChildren(
    heading,
    ...(c.personalDataHidden ? [h('p', { class: 'notice', role: 'note', id: 'case-hidden-notice' }, text('cases.hiddenNotice'))] : []),
    h('div', { class: 'case-detail', id: 'case-detail', 'data-hidden': String(c.personalDataHidden) }, h('section', { class: 'card stack' }, facts), section('cases.people', people)),
    section(
      'cases.sessions',
      onSessions.length === 0
        ? text('cases.notScheduled', undefined, 'p')
        : h('ul', {}, ...onSessions.map((e) => h('li', {}, h('a', { href: `#/session/${e.session.id}` }, e.session.title), ` ${when(e.session.scheduledStart)} `, statusBadge(e.session.status), e.outcome ? dyn(() => ` ${t('cases.outcome', { outcome: outcomeLabel(e.outcome ?? '') })}`) : ''))),
    ),
    // The organisers edit cases (the API's R.organisers); others get no form to be refused by.
    ['reception_board', 'inspectorate'].includes(api.user?.role ?? '') ? caseEditForm(c, () => casePage(main, id, true)) : '',
  );
}
