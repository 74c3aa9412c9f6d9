import { button, h, msg, setText, text } from '../../ui/dom.ts';
import { t, type MessageKey } from '../../i18n/index.ts';
import { api } from './api.ts';
import { field, section, table, withStatus } from './widgets.ts';

interface CalendarException {
  date: string;
  kind: 'holiday' | 'day_off' | 'working_day';
  name: string;
  uncertain: boolean;
}

const KINDS = ['holiday', 'day_off', 'working_day'] as const;
const WEEKDAY_KEYS: MessageKey[] = ['calendar.wd.0', 'calendar.wd.1', 'calendar.wd.2', 'calendar.wd.3', 'calendar.wd.4', 'calendar.wd.5', 'calendar.wd.6'];

/**
 * The working-day calendar (issue 11 item 8): the exceptions to the Monday–Friday week for a year,
 * with the dates still "to be confirmed" marked, editable by the reception board and the admin
 * (every deadline of the regulation is counted on it).
 */
export async function calendarPage(main: HTMLElement): Promise<void> {
  const canEdit = ['admin', 'reception_board'].includes(api.user?.role ?? '');
  const year = h('input', { type: 'number', min: 2020, max: 2100, value: new Date().getFullYear() });
  const status = h('p', { class: 'status', role: 'status', id: 'calendar-status' });
  const list = h('div', { id: 'calendar-list' });
  const date = h('input', { type: 'date', required: true });
  const kind = h('select', {}, ...KINDS.map((k) => h('option', { value: k }, msg(`calendar.kind.${k}` as MessageKey))));
  const name = h('input', { type: 'text', maxlength: 200, required: true });
  const uncertain = h('input', { type: 'checkbox' });
  const edit = (e: CalendarException) => {
    date.value = e.date;
    kind.value = e.kind;
    name.value = e.name;
    uncertain.checked = e.uncertain;
    date.focus();
  };
  const load = () =>
    withStatus(status, async () => {
      const y = Number(year.value);
      const rows = await api.get<CalendarException[]>(`/calendar/exceptions?from=${y}-01-01&to=${y}-12-31`);
      list.replaceChildren(
        table('nav.calendar', rows, [
          { key: 'calendar.date', cell: (e) => `${t(WEEKDAY_KEYS[new Date(`${e.date}T00:00:00Z`).getUTCDay()]!)}, ${e.date.slice(8, 10)}/${e.date.slice(5, 7)}/${e.date.slice(0, 4)}` },
          { key: 'calendar.kind', cell: (e) => t(`calendar.kind.${e.kind}` as MessageKey) },
          { key: 'calendar.name', cell: (e) => e.name },
          { key: 'calendar.uncertain', cell: (e) => (e.uncertain ? h('span', { class: 'badge fair', 'data-uncertain': e.date }, msg('calendar.toConfirm')) : '') },
          {
            key: 'common.actions',
            cell: (e) =>
              canEdit
                ? h(
                    'div',
                    { class: 'row' },
                    button('register.edit', () => edit(e), { 'data-edit-day': e.date }),
                    button('calendar.remove', () => void withStatus(status, async () => {
                      await api.call('DELETE', `/calendar/exceptions/${e.date}`);
                      await load();
                    }), { 'data-remove-day': e.date }),
                  )
                : '',
          },
        ], (e) => e.date),
      );
    });
  const form = h(
    'form',
    { class: 'card stack', id: 'calendar-form' },
    text('calendar.edit', undefined, 'h3'),
    h('div', { class: 'row top' }, field('calendar-date', 'calendar.date', date), field('calendar-kind', 'calendar.kind', kind)),
    field('calendar-name', 'calendar.name', name),
    h('div', { class: 'row' }, uncertain, h('label', { for: 'calendar-uncertain' }, msg('calendar.uncertainField'))),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'calendar-save' }, msg('common.save'))),
  );
  uncertain.id = 'calendar-uncertain';
  setText(form.querySelector('button[type=submit]')!, 'common.save');
  setText(form.querySelector('label[for=calendar-uncertain]')!, 'calendar.uncertainField');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void withStatus(status, async () => {
      await api.put(`/calendar/exceptions/${date.value}`, { kind: kind.value, name: name.value, uncertain: uncertain.checked });
      await load();
    }, 'common.saved');
  });
  year.addEventListener('change', () => void load());
  main.replaceChildren(
    section('nav.calendar', text('calendar.hint', undefined, 'p'), field('calendar-year', 'calendar.year', year), status, list),
    canEdit ? form : '',
  );
  await load();
}
