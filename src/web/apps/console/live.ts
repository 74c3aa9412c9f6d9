// Why one file: the chair's live page is one screen (stage, health table, lobby, raised hands,
// recording and end controls) over one LiveClient; its parts share that client and the page's state,
// and splitting them would only pass both around.
import { LiveClient, type PeerSummary } from '../../LiveClient.ts';
import { append, button, dyn, formatDuration, h, msg, refreshLocalized, setAttrLocalized, setText, setTextLocalized, text } from '../../ui/dom.ts';
import { openLocalMedia, stopStream } from '../../ui/media.ts';
import { formatBytes, formatDateTime, t, type MessageKey } from '../../i18n/index.ts';
import { Tile, roleKey } from '../shared/tiles.ts';
import { outcomesSection } from './afterSitting.ts';
import { api, type SessionView } from './api.ts';
import type { CaseView } from '../../../contract/views/case.ts';
import { plainError } from './plainErrors.ts';
import { recordingControl } from './recordingApi.ts';
import { section, withStatus } from './widgets.ts';

/** Figures the health table shows for one participant. */
export interface PeerHealth {
  bitrateKbps: number | null;
  lossPct: number | null;
  /** The loss figure is derived from mediasoup's stream score, not counted packets. */
  lossEstimated: boolean;
  rttMs: number | null;
  icePath: string | null;
}

interface PeerStatsAnswer {
  transports: { direction: string; protocol?: string; iceState?: string }[];
  producers: { kind: string; bitrate: number; score: number[] }[];
  consumers: { kind: string; bitrate: number; score: number }[];
  /** Round-trip time in ms from the peer's receiver reports (null until one arrives). */
  rttMs: number | null;
  /** Worst loss in percent on what the peer sends (null until reported). */
  lossPct: number | null;
}

/**
 * Health from the server's view of a peer: upstream bitrate of its producers, loss and round-trip
 * time as the server measures them (before the first reports arrive, loss is estimated from
 * mediasoup's 0–10 stream score, which is derived from the loss rate), and the ICE path.
 */
export function healthFrom(stats: PeerStatsAnswer): PeerHealth {
  const bitrate = stats.producers.reduce((n, p) => n + (p.bitrate ?? 0), 0);
  const scores = stats.producers.flatMap((p) => p.score ?? []);
  const minScore = scores.length > 0 ? Math.min(...scores) : null;
  const measured = typeof stats.lossPct === 'number';
  const lossPct = measured ? stats.lossPct : minScore === null ? null : Math.max(0, (10 - minScore) * 2);
  const path = stats.transports.map((tr) => tr.protocol).find((p) => p !== undefined) ?? null;
  return {
    bitrateKbps: stats.producers.length > 0 ? Math.round(bitrate / 1000) : null,
    lossPct,
    lossEstimated: !measured && lossPct !== null,
    rttMs: typeof stats.rttMs === 'number' ? Math.round(stats.rttMs) : null,
    icePath: path,
  };
}

export async function livePage(main: HTMLElement, sessionId: string, onLeave: (cleanup: () => void) => void): Promise<void> {
  const session = await api.get(`/sessions/${sessionId}`);
  const status = h('p', { class: 'status', role: 'status', id: 'live-status' });
  const wall = h('div', { class: 'video-wall', id: 'video-wall' });
  // Every local recording at a bridge point is visible to the chair too (the decree's rule).
  const localRecBanner = h('div', { class: 'banner local-rec', role: 'status', 'aria-live': 'assertive', hidden: true, id: 'local-recording-banner' });
  const healthBody = h('tbody', { id: 'health-rows' });
  const lobbyList = h('ul', { id: 'lobby-list' });
  // N154 Art 21(2): points join with their microphones off and ask to speak; the chair gives the floor.
  const handsList = h('ul', { id: 'hands-list' });
  const recPanel = h('div', { class: 'rec-panel', id: 'rec-panel' });
  const caseBox = h('div', { class: 'stack', id: 'case-summary' });
  const minutesBox = h('div', { class: 'stack', id: 'minutes' });

  const healthTable = h(
    'table',
    { class: 'health', id: 'health' },
    h('caption', { class: 'visually-hidden' }, text('live.points')),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...(['live.points', 'common.role', 'live.health.bitrate', 'live.health.loss', 'live.health.rtt', 'live.health.path', 'common.actions'] as const).map((k) => {
          const th = h('th', { scope: 'col' });
          setText(th, k);
          return th;
        }),
      ),
    ),
    healthBody,
  );
  const endButton = button('live.end', () => void endSession(), { class: 'danger solid', id: 'end-session' });
  main.replaceChildren(
    h('div', { class: 'row' }, h('h2', { class: 'grow' }, session.title), endButton),
    status,
    localRecBanner,
    h(
      'div',
      { class: 'live-grid' },
      h('div', { class: 'stack' }, section('live.title', wall), section('live.points', healthTable), section('live.hands', handsList), section('live.lobby', lobbyList)),
      h('div', { class: 'stack' }, section('recordings.title', recPanel), section('live.case', caseBox), section('minutes.title', minutesBox)),
    ),
  );

  // The chair's own credential for the live session, derived from this login (security review
  // H3): every admit, mute, eject, end and recording action is audited with this user.
  const credential = await api.post<{ token: string; role: 'host' | 'technician'; expiresAt: string }>(`/sessions/${sessionId}/live-credential`).catch((err: unknown) => {
    status.className = 'status error';
    setTextLocalized(status, () => plainError(err).text);
    return undefined;
  });
  void fillCase(session, caseBox);
  void fillMinutes(session, minutesBox);
  let joinedClient: LiveClient | undefined;
  const rec = recordingControl(sessionId, recPanel, () => (joinedClient?.state === 'joined' ? joinedClient : undefined));
  if (!credential) return;
  let stream: MediaStream | undefined;
  try {
    stream = await openLocalMedia();
  } catch {
    stream = undefined; // a console without a camera still moderates
  }
  const client = new LiveClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
    sessionId,
    token: credential.token,
    ...(stream ? { stream } : { sendAudio: false, sendVideo: false }),
  });
  const tiles = new Map<string, Tile>();
  const health = new Map<string, PeerHealth>();
  let lobby: PeerSummary[] = [];

  const tileFor = (peer: PeerSummary): Tile => {
    let tile = tiles.get(peer.peerId);
    if (!tile) {
      tile = new Tile({ peerId: peer.peerId, label: peer.label, role: peer.role });
      tiles.set(peer.peerId, tile);
      wall.append(tile.element);
    }
    return tile;
  };
  /**
   * The health table, one row per peer kept across stats ticks (every 2 s) and updated in place:
   * replacing the rows took the keyboard focus off Mute/Eject and let clicks land on a button
   * that was just removed. Rows are added and removed as peers come and go.
   */
  const healthRows = new Map<string, { row: HTMLTableRowElement; update: () => void }>();
  const noOthersRow = h('tr', {}, h('td', { colspan: 7 }, text('room.noOthers')));
  function healthRow(peer: PeerSummary): { row: HTMLTableRowElement; update: () => void } {
    const fig = (v: number | null | undefined, unit: string) => (v === null || v === undefined ? t('live.health.none') : `${v} ${unit}`);
    const hl = () => health.get(peer.peerId);
    const cell = (fieldName: string, render: () => string) => h('td', { class: fieldName === 'path' ? null : 'num', 'data-field': fieldName }, dyn(render));
    const bitrate = cell('bitrate', () => fig(hl()?.bitrateKbps, 'kbit/s'));
    const loss = cell('loss', () => `${hl()?.lossEstimated ? '≈ ' : ''}${fig(hl()?.lossPct, '%')}`);
    const rtt = cell('rtt', () => fig(hl()?.rttMs, 'ms'));
    const path = cell('path', () => hl()?.icePath?.toUpperCase() ?? t('live.health.none'));
    // A title only while the loss figure is an estimate (the switch re-reads this as well).
    setAttrLocalized(loss, 'title', dyn(() => (hl()?.lossEstimated ? t('live.health.estimated') : '')));
    const row = h(
      'tr',
      { 'data-peer-id': peer.peerId },
      h('td', {}, peer.label),
      h('td', {}, text(roleKey(peer.role))),
      bitrate,
      loss,
      rtt,
      path,
      h(
        'td',
        {},
        h(
          'div',
          { class: 'row nowrap' },
          button('live.mute', () => void withStatus(status, () => client.request('mutePeer', { peerId: peer.peerId, kind: 'audio' })), { 'data-action': 'mute' }),
          // The mute holds until the chair gives the floor back (security review L3).
          button('live.giveFloor', () => void withStatus(status, () => client.request('unmutePeer', { peerId: peer.peerId, kind: 'audio' })), { 'data-action': 'unmute' }),
          button(
            'live.eject',
            () => {
              if (confirm(t('live.ejectConfirm', { name: peer.label }))) void withStatus(status, () => client.request('ejectPeer', { peerId: peer.peerId }));
            },
            { class: 'danger', 'data-action': 'eject' },
          ),
        ),
      ),
    );
    const update = () => {
      const now = hl();
      row.dataset.hasStats = now && now.bitrateKbps !== null ? 'true' : 'false';
      for (const td of [bitrate, loss, rtt, path]) refreshLocalized(td);
    };
    return { row, update };
  }
  function renderHealth(): void {
    const present = new Set<string>();
    let previous: Element | null = null;
    for (const peer of client.peers.values()) {
      if (peer.peerId === client.info?.peerId) continue;
      present.add(peer.peerId);
      let entry = healthRows.get(peer.peerId);
      if (entry === undefined) {
        entry = healthRow(peer);
        healthRows.set(peer.peerId, entry);
      }
      entry.update();
      // In the peers' order; a row already in place is not moved (moving would drop its focus).
      const expected: Element | null = previous === null ? healthBody.firstElementChild : previous.nextElementSibling;
      if (expected !== entry.row) healthBody.insertBefore(entry.row, expected);
      previous = entry.row;
    }
    for (const [peerId, entry] of healthRows) {
      if (present.has(peerId)) continue;
      entry.row.remove();
      healthRows.delete(peerId);
    }
    if (present.size === 0) healthBody.replaceChildren(noOthersRow);
    else noOthersRow.remove();
  }
  function renderLobby(): void {
    lobbyList.replaceChildren(
      ...lobby.map((p) => h('li', { class: 'row', 'data-peer-id': p.peerId }, h('span', { class: 'grow' }, dyn(() => `${p.label} (${t(roleKey(p.role))})`)), button('live.admit', () => void withStatus(status, () => client.request('admitPeer', { peerId: p.peerId })), { class: 'primary', 'data-action': 'admit' }))),
    );
    if (lobby.length === 0) lobbyList.append(h('li', { class: 'muted' }, text('common.none')));
  }

  function renderHands(): void {
    const hands = [...client.raisedHands.values()];
    handsList.replaceChildren(
      ...hands.map((r) =>
        h(
          'li',
          { class: 'row', 'data-peer-id': r.peerId },
          h('span', { class: 'grow' }, r.label),
          button('live.giveFloor', () => void withStatus(status, () => client.giveFloor(r.peerId)), { class: 'primary', 'data-action': 'give-floor' }),
        ),
      ),
    );
    if (hands.length === 0) handsList.append(h('li', { class: 'muted' }, text('live.hands.none')));
  }

  joinedClient = client;
  client.on('handRaised', () => renderHands());
  client.on('joined', (info) => {
    renderHands();
    setText(status, 'live.connected');
    status.className = 'status ok';
    lobby = info.lobby;
    for (const p of info.peers) if (p.peerId !== info.peerId) tileFor(p);
    renderLobby();
    renderHealth();
    rec.setRecording(info.session.recording);
  });
  client.on('peerJoined', (p) => {
    tileFor(p);
    renderHealth();
  });
  client.on('peerLeft', ({ peerId }) => {
    tiles.get(peerId)?.element.remove();
    tiles.delete(peerId);
    health.delete(peerId);
    renderHealth();
  });
  client.on('track', (r) => tileFor(client.peers.get(r.peerId) ?? { peerId: r.peerId, label: r.peerId, role: 'endpoint' }).addTrack(r.track));
  client.on('trackEnded', ({ peerId, kind }) => tiles.get(peerId)?.removeTrack(kind));
  // A second connection with a bridge point's invitation (M1): the chair decides, the page says so.
  client.on('notification', (name, data) => {
    if (name !== 'seatContested') return;
    status.className = 'status warn';
    setText(status, 'live.seatContested', { label: String((data as { label?: unknown }).label ?? '') });
  });
  client.on('lobby', (waiting) => {
    lobby = waiting;
    renderLobby();
  });
  client.on('activeSpeaker', (peerId) => {
    for (const tile of tiles.values()) tile.setSpeaking(tile.peerId === peerId);
  });
  client.on('sessionState', (s) => {
    rec.setRecording(s.recording);
    if (s.state === 'ended') {
      status.className = 'status';
      setText(status, 'room.ended');
    }
  });
  client.on('state', (state) => {
    if (state === 'reconnecting') setText(status, 'room.reconnecting');
  });
  const showLocalRecorders = () => {
    const names = [...client.localRecorders.values()].map((r) => r.label);
    localRecBanner.hidden = names.length === 0;
    if (names.length > 0) setText(localRecBanner, 'room.localRecordingBanner', { names: names.join(', ') });
  };
  client.on('joined', showLocalRecorders);
  client.on('localRecording', showLocalRecorders);

  const statsTimer = window.setInterval(() => {
    for (const peer of client.peers.values()) {
      if (peer.peerId === client.info?.peerId) continue;
      void client
        .request('getStats', { peerId: peer.peerId })
        .then((s) => {
          const hl = healthFrom(s);
          health.set(peer.peerId, hl);
          tiles.get(peer.peerId)?.setQuality(hl.bitrateKbps === null ? 'unknown' : hl.bitrateKbps >= 250 ? 'good' : hl.bitrateKbps >= 80 ? 'fair' : 'poor', hl.bitrateKbps ?? undefined);
        })
        .catch(() => undefined);
    }
    renderHealth();
  }, 2000);

  async function endSession(): Promise<void> {
    if (!confirm(t('live.endConfirm'))) return;
    await withStatus(status, async () => {
      await client.request('endSession').catch(() => undefined);
      await api.post(`/sessions/${sessionId}/end`);
    }, 'room.ended');
  }

  onLeave(() => {
    clearInterval(statsTimer);
    rec.close();
    void client.leave();
    stopStream(stream);
  });
  try {
    await client.join();
  } catch (err) {
    status.className = 'status error';
    setTextLocalized(status, () => t('common.error', { message: plainError(err).text }));
  }
}


async function fillCase(session: SessionView, box: HTMLElement): Promise<void> {
  const current = session.cases.find((c) => c.outcome === null) ?? session.cases[0];
  if (!current) {
    box.append(text('common.none', undefined, 'p'));
    return;
  }
  try {
    const c = await api.get(`/cases/${current.caseId}`);
    append(
      box,
      h('h3', {}, `${c.reference} – ${c.title}`),
      h('p', { class: 'muted' }, msg(`caseType.${c.type}` as MessageKey)),
      c.personalDataHidden ? h('p', { class: 'badge fair' }, text('live.case.confidential')) : null,
      c.summary ? h('p', {}, c.summary) : null,
      c.requests ? h('p', {}, c.requests) : null,
      !c.personalDataHidden && c.people.length > 0 ? h('ul', {}, ...c.people.map((p) => h('li', {}, dyn(() => `${p.fullName ?? '—'} (${t(`personRole.${p.role}` as MessageKey)})`)))) : null,
    );
  } catch {
    // A role without access to cases sees the reference only.
    box.append(h('p', {}, current.reference), h('p', { class: 'badge fair' }, text('live.case.confidential')));
  }
}

/** The minutes editor: attendees filled in from the session's bridge points and participants. */
async function fillMinutes(session: SessionView, box: HTMLElement): Promise<void> {
  const status = h('p', { class: 'status', role: 'status' });
  const area = h('textarea', { class: 'minutes', id: 'minutes-text', rows: 12 });
  const label = h('label', { for: 'minutes-text' });
  setText(label, 'minutes.content');
  let points: { id: string; code: string; name: string }[] = [];
  try {
    points = (await api.get(`/bridge-points?limit=500`)).items.filter((p) => session.bridgePointIds.includes(p.id));
  } catch {
    points = [];
  }
  let existing = '';
  // The version this text is based on: the server refuses a save over a newer one (no silent overwrite).
  let version = 0;
  try {
    const m = await api.get<{ text: string; version: number }>(`/sessions/${session.id}/minutes`);
    existing = m.text;
    version = m.version;
  } catch {
    existing = '';
  }
  const attendees = [
    ...session.participants.map((p) => `- ${p.label} (${t(roleKey(p.role))})`),
    ...points.map((p) => `- ${t('invite.bridgePoint', { name: `${p.code} – ${p.name}` })}`),
  ];
  area.value =
    existing ||
    [
      `${t('minutes.title').toUpperCase()}: ${session.title}`,
      `${t('sessions.time')}: ${formatDateTime(session.scheduledStart)}`,
      `${t('sessions.chair')}: ${session.chairTitle}`,
      '',
      `${t('minutes.attendees')}:`,
      ...attendees,
      '',
      `${t('minutes.content')}:`,
      '',
      `${t('minutes.conclusion')}:`,
      '',
    ].join('\n');
  box.append(
    label,
    area,
    h('div', { class: 'row' }, button('minutes.save', () => void withStatus(status, async () => {
      version = (await api.put<{ version: number }>(`/sessions/${session.id}/minutes`, { text: area.value, baseVersion: version, outcomes: [] })).version;
    }, 'common.saved'), { class: 'primary', id: 'save-minutes' })),
    status,
  );
  // Per-case outcomes next to the minutes (the minutes text itself carries none).
  try {
    box.append(await outcomesSection(session));
  } catch {
    // a role that may not read outcomes sees the minutes only
  }
}

export { formatBytes, formatDuration };
