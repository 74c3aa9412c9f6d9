// Why one file: the commune's room page (set-up, lobby, stage, controls) is one screen whose
// parts share the client and the tiles; issue 12 splits the page into components.
import '../../ui/styles.css';
import { LiveClient, type JoinInfo, type PeerSummary } from '../../LiveClient.ts';
import { button, dyn, errorMessage, h, languageSwitch, msg, pageHeader, setAttrText, setDocumentTitle, setText, setTextLocalized, text } from '../../ui/dom.ts';
import { LevelMeter, MediaAccessError, canChooseSpeaker, devicePickers, levelBar, openLocalMedia, stopStream, videoElement } from '../../ui/media.ts';
import { t, type MessageKey } from '../../i18n/index.ts';
import { takeInvitation, isExpired, type Invitation } from '../shared/invitation.ts';
import { Tile, qualityFromKbps } from '../shared/tiles.ts';
import { runLoopback } from '../preflight/loopback.ts';
import { LocalRoomRecorder } from './localRecorder.ts';

const root = document.getElementById('app')!;

/** Measurements the end-to-end test and the benchmark read (milliseconds since navigation start). */
interface RoomTimings {
  pageReady?: number;
  joinClicked?: number;
  joined?: number;
  firstCentralVideo?: number;
}
const timings: RoomTimings = {};
Object.assign(window, { tiepdanRoom: { timings } });

function wsUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

function fullScreenMessage(key: MessageKey, params?: Record<string, string | number>): void {
  root.replaceChildren(
    pageHeader('app.title'),
    h('main', { class: 'ended' }, h('div', { class: 'card stack', role: 'status', 'data-final': key }, text(key, params, 'p'))),
  );
}

/** Step 1: devices and network, then Join. */
async function setup(inv: Invitation): Promise<void> {
  const preview = videoElement(undefined, { muted: true, label: 'devices.preview' });
  const meter = levelBar();
  const mediaStatus = h('p', { class: 'status', role: 'alert' });
  const netStatus = h('p', { class: 'status', id: 'network-status', role: 'status' });
  let stream: MediaStream | undefined;
  let level: LevelMeter | undefined;
  let forceTcp = false;
  const pickers = await devicePickers((choice) => void openDevices(choice));
  const joinButton = button('room.join', () => void join(), { class: 'primary big', id: 'join', disabled: true });

  async function openDevices(choice = pickers.choice()): Promise<void> {
    stopStream(stream);
    level?.close();
    setTextLocalized(mediaStatus, () => '');
    try {
      stream = await openLocalMedia(choice);
      preview.srcObject = stream;
      level = new LevelMeter(stream, (v) => meter.set(v));
      await pickers.refresh();
      joinButton.disabled = false;
    } catch (err) {
      stream = undefined;
      joinButton.disabled = true;
      mediaStatus.className = 'status error';
      if (err instanceof MediaAccessError) setText(mediaStatus, err.key);
      else setTextLocalized(mediaStatus, () => errorMessage(err));
    }
  }

  /** A short loopback through the SFU: proves the path and tells whether UDP gets through. */
  async function checkNetwork(): Promise<void> {
    if (!stream) return;
    netStatus.className = 'status';
    setText(netStatus, 'network.checking');
    for (const transport of ['udp', 'tcp'] as const) {
      try {
        const r = await runLoopback({ token: inv.token, transport, stream, measureMs: 1000, connectTimeoutMs: 6000 });
        if (r.connected) {
          forceTcp = transport === 'tcp';
          netStatus.className = 'status ok';
          setText(netStatus, 'network.ok', { path: transport.toUpperCase(), rtt: r.rttMs ?? '?' });
          return;
        }
      } catch {
        // try the next transport
      }
    }
    netStatus.className = 'status error';
    setText(netStatus, 'network.fail');
  }

  async function join(): Promise<void> {
    if (!stream) return;
    timings.joinClicked = performance.now();
    joinButton.disabled = true;
    setText(joinButton, 'room.joining');
    level?.close();
    await enterRoom(inv, stream, forceTcp, pickers.choice().speakerId);
  }

  root.replaceChildren(
    pageHeader('app.title'),
    h(
      'main',
      { class: 'setup' },
      h('section', { class: 'card stack', 'aria-labelledby': 'devices-h' }, withId(text('devices.title', undefined, 'h2'), 'devices-h'), h('div', { class: 'preview' }, preview), meter.element, mediaStatus),
      h(
        'section',
        { class: 'card stack' },
        text('invite.session', undefined, 'h2'),
        inv.displayName ? text('invite.bridgePoint', { name: inv.displayName }, 'p') : null,
        pickers.element,
        withId(text('network.title', undefined, 'h3'), 'network-h'),
        netStatus,
        h('div', { class: 'row' }, joinButton),
      ),
    ),
  );
  await openDevices();
  timings.pageReady = performance.now();
  void checkNetwork();
  joinButton.focus();
}

function withId<T extends HTMLElement>(el: T, id: string): T {
  el.id = id;
  return el;
}

/** Step 2: the session itself (lobby, then the room). */
async function enterRoom(inv: Invitation, stream: MediaStream, forceTcp: boolean, outputId: string | undefined): Promise<void> {
  // N154 Art 21(2): cameras on, microphones on only when the chair asks a point to speak. The
  // chair's own seat and the central point speak from the start.
  const speaksFromStart = inv.role === 'host' || inv.role === 'central';
  const client = new LiveClient({ url: wsUrl(), sessionId: inv.sessionId, token: inv.token, stream, forceTcp, startMicMuted: !speaksFromStart });
  // For the technician's browser console and the end-to-end test (e.g. client.dropConnection()).
  Object.assign(window, { tiepdanRoom: { timings, client } });
  const tiles = new Map<string, Tile>();
  const stage = h('div', { class: 'main-tile', 'aria-live': 'off' });
  const strip = h('div', { class: 'strip', role: 'list', 'aria-label': msg('room.participants') });
  const title = h('div', { class: 'title' });
  const rec = h('span', { class: 'rec-indicator', role: 'status', id: 'recording-indicator' });
  setText(rec, 'room.recording');
  setAttrText(rec, { title: 'room.recordingHint' });
  const banner = h('div', { class: 'banner', role: 'alert', hidden: true, id: 'room-banner' });
  // The link cannot carry even the lowest video layer: say so, instead of a frozen picture.
  const audioOnly = h('div', { class: 'banner audio-only', role: 'status', 'aria-live': 'polite', hidden: true, 'data-notice': 'audio-only' });
  setText(audioOnly, 'room.audioOnly');
  const lobby = h('main', { class: 'lobby', hidden: true, id: 'lobby' }, h('div', { class: 'card stack' }, h('div', { class: 'spinner', 'aria-hidden': 'true' }), text('room.lobby', undefined, 'h2'), text('room.lobbyHint', undefined, 'p')));
  let micMuted = !speaksFromStart;
  /** The chair muted this point: the server refuses to resume the microphone until it gives the floor back. */
  let micHeldByChair = false;
  let camOff = false;
  let handRaised = false;
  const micButton = button('room.muteMic', () => void toggleMic(), { id: 'toggle-mic', 'aria-pressed': 'false' });
  // "Xin phát biểu": the chair sees the hand and gives the floor; the microphone then turns on.
  const handButton = button('room.raiseHand', () => void toggleHand(), { id: 'raise-hand', 'aria-pressed': 'false', hidden: speaksFromStart });
  const camButton = button('room.muteCam', () => toggleCam(), { id: 'toggle-cam', 'aria-pressed': 'false' });
  const fullButton = button('room.fullscreen', () => void document.documentElement.requestFullscreen?.().catch(() => undefined), { id: 'fullscreen' });
  const leaveButton = button('room.leave', () => void leave(), { class: 'danger solid', id: 'leave' });
  // Local recording: offered only when the chair allows it for this session (join answer).
  const localRecButton = button('room.localRecord', () => void toggleLocalRecording(), { id: 'local-recording', 'aria-pressed': 'false', hidden: true });
  setAttrText(localRecButton, { title: 'room.localRecordHint' });
  // Everyone sees who records locally, for as long as they do (the decree's "every start is visible").
  const localRecBanner = h('div', { class: 'banner local-rec', role: 'status', 'aria-live': 'assertive', hidden: true, id: 'local-recording-banner' });
  const downloads = h('div', { class: 'local-rec-downloads', id: 'local-recording-downloads' });
  const room = h(
    'div',
    { class: 'room', id: 'room' },
    h('header', { class: 'room-top' }, title, rec, languageSwitch()),
    h('main', { class: 'stage' }, stage, strip),
    h('footer', { class: 'controls', role: 'toolbar', 'aria-label': msg('room.participants') }, micButton, handButton, camButton, localRecButton, fullButton, leaveButton, downloads),
  );
  root.replaceChildren(lobby, room, banner, audioOnly, localRecBanner);
  room.hidden = true;

  const self = new Tile({ peerId: 'self', label: inv.displayName ?? msg('room.you'), role: inv.role, self: true, stream });
  self.video.muted = true;
  strip.append(self.element);
  // The point joins with its microphone off (Art 21(2)): its button and tile say so from the start.
  syncMic();

  let speakerId: string | undefined;
  const centralFirst = (a: Tile) => (a.role === 'host' ? 0 : a.role === 'central' ? 1 : 2);
  /** The stage shows the active speaker, or else the chair (central point), or else anyone. */
  function layout(): void {
    const candidates = [...tiles.values()];
    const speaking = speakerId ? tiles.get(speakerId) : undefined;
    const main = speaking ?? candidates.sort((a, b) => centralFirst(a) - centralFirst(b))[0];
    const current = stage.firstElementChild;
    if (main && current !== main.element) {
      if (current) {
        strip.prepend(current);
        tiles.get((current as HTMLElement).dataset.peerId ?? '')?.replay();
      }
      stage.append(main.element);
      main.replay();
    }
    if (!main && !current) stage.append(h('div', { class: 'tile' }, h('div', { class: 'placeholder' }, text('room.noOthers'))));
    if (main && stage.children.length > 1) for (const extra of [...stage.children].slice(0, -1)) if (!(extra as HTMLElement).dataset.peerId) extra.remove();
    for (const tile of tiles.values()) tile.setSpeaking(tile.peerId === speakerId);
  }

  /** An endpoint that may not see other communes gets no empty tiles for them. */
  const hidden = (peer: PeerSummary) => client.info?.role === 'endpoint' && client.info.session.endpointsSeeEachOther === false && peer.role === 'endpoint';
  const unnamed = new Set<string>();
  function tileFor(peer: PeerSummary): Tile | undefined {
    if (hidden(peer)) return undefined;
    let tile = tiles.get(peer.peerId);
    if (!tile) {
      // A peer we were not told about is named by its role, in the page's language.
      tile = new Tile({ peerId: peer.peerId, label: unnamed.has(peer.peerId) ? msg(peer.role === 'central' ? 'role.central' : 'role.endpoint') : peer.label, role: peer.role });
      tile.element.setAttribute('role', 'listitem');
      if (outputId && canChooseSpeaker) void tile.audio.setSinkId(outputId).catch(() => undefined);
      tiles.set(peer.peerId, tile);
      strip.append(tile.element);
      const placeholder = stage.querySelector('.tile:not([data-peer-id])');
      placeholder?.remove();
      layout();
    }
    return tile;
  }

  const showBanner = (key: MessageKey | undefined) => {
    banner.hidden = key === undefined;
    if (key) setText(banner, key);
  };

  client.on('state', (state) => {
    lobby.hidden = state !== 'lobby';
    room.hidden = state === 'lobby';
    if (state === 'reconnecting') showBanner('room.reconnecting');
    else if (banner.dataset.i18n === 'room.reconnecting') showBanner(undefined);
    document.body.dataset.roomState = state;
  });
  client.on('joined', (info: JoinInfo) => {
    timings.joined ??= performance.now();
    title.textContent = info.title;
    localRecButton.hidden = info.session.participantRecordingAllowed !== true || !info.permissions.produce;
    showLocalRecorders();
    rec.classList.toggle('on', info.session.recording);
    for (const p of info.peers) if (p.peerId !== info.peerId) tileFor(p);
    layout();
  });
  client.on('peerJoined', (p) => {
    if (p.peerId !== client.info?.peerId) tileFor(p);
  });
  client.on('peerLeft', ({ peerId }) => {
    const tile = tiles.get(peerId);
    tile?.element.remove();
    tiles.delete(peerId);
    if (speakerId === peerId) speakerId = undefined;
    layout();
  });
  // Peers already in the room when the chair admits us: the `admitted` notification may list them
  // (protocol addition); until it does, a peer we were not told about is, for an endpoint that does
  // not see other communes, the central room.
  client.on('notification', (method, data) => {
    const peers = (data as { peers?: PeerSummary[] } | undefined)?.peers;
    if (method === 'admitted' && Array.isArray(peers)) for (const p of peers) if (p.peerId !== client.info?.peerId) tileFor(p);
  });
  const unknownPeer = (peerId: string): PeerSummary => {
    const centralOnly = client.info?.role === 'endpoint' && client.info.session.endpointsSeeEachOther === false;
    unnamed.add(peerId);
    return { peerId, label: t(centralOnly ? 'role.central' : 'role.endpoint'), role: centralOnly ? 'central' : 'endpoint' };
  };
  client.on('track', (remote) => {
    const peer = client.peers.get(remote.peerId) ?? unknownPeer(remote.peerId);
    const tile = tileFor(peer);
    if (!tile) return;
    tile.addTrack(remote.track);
    if (remote.kind === 'video' && (tile.role === 'host' || tile.role === 'central')) {
      tile.video.addEventListener(
        'resize',
        () => {
          timings.firstCentralVideo ??= performance.now();
        },
        { once: true },
      );
    }
  });
  client.on('trackEnded', ({ peerId, kind }) => tiles.get(peerId)?.removeTrack(kind));
  // Shown after a second without any video layer (a brief gap while the SFU switches layers is not
  // worth a notice), hidden as soon as video flows again.
  const suspendedVideo = new Set<string>();
  let audioOnlyTimer: ReturnType<typeof setTimeout> | undefined;
  client.on('videoSuspended', ({ consumerId, suspended }) => {
    if (suspended) suspendedVideo.add(consumerId);
    else suspendedVideo.delete(consumerId);
    clearTimeout(audioOnlyTimer);
    if (suspendedVideo.size === 0) audioOnly.hidden = true;
    else audioOnlyTimer = setTimeout(() => (audioOnly.hidden = suspendedVideo.size === 0), 1000);
  });
  client.on('activeSpeaker', (peerId) => {
    speakerId = tiles.has(peerId) ? peerId : undefined;
    layout();
  });
  client.on('sessionState', (s) => {
    rec.classList.toggle('on', s.recording);
    document.body.dataset.recording = String(s.recording);
    if (s.state === 'ended') finish('room.ended');
  });
  client.on('mutedByHost', ({ kind }) => {
    if (kind === 'audio') {
      micMuted = true;
      syncMic();
      showBanner('room.mutedByHost');
      setTimeout(() => banner.dataset.i18n === 'room.mutedByHost' && showBanner(undefined), 6000);
    }
  });
  // Security review L3: the server refuses our resume while the chair holds the mute, so the button
  // says so and does nothing instead of pretending to turn the microphone on.
  client.on('hostMute', ({ kind, muted }) => {
    if (kind !== 'audio') return;
    micHeldByChair = muted;
    if (muted) micMuted = true;
    syncMic();
    showBanner(muted ? 'room.mutedByHost' : 'room.floorGiven');
    if (!muted) setTimeout(() => banner.dataset.i18n === 'room.floorGiven' && showBanner(undefined), 6000);
  });
  client.on('handRaised', (r) => {
    if (r.peerId !== client.info?.peerId) return;
    handRaised = r.raised;
    syncHand();
  });
  client.on('floorGiven', () => {
    handRaised = false;
    syncHand();
    if (micMuted) void toggleMic();
    showBanner('room.floorGiven');
    setTimeout(() => banner.dataset.i18n === 'room.floorGiven' && showBanner(undefined), 8000);
  });
  client.on('localRecording', (r) => {
    showLocalRecorders();
    // The server ended our recording (e.g. we came back without our media): stop and keep the file.
    if (r.peerId === client.info?.peerId && !r.recording && localRecorder) void stopLocalRecording(false);
  });
  client.on('kicked', (reason) => finish(reason === 'ended' ? 'room.ended' : reason === 'replaced' ? 'room.left' : reason === 'revoked' ? 'room.revoked' : 'room.kicked'));

  function syncHand(): void {
    handButton.setAttribute('aria-pressed', String(handRaised));
    setText(handButton, handRaised ? 'room.lowerHand' : 'room.raiseHand');
    handButton.classList.toggle('primary', handRaised);
  }
  async function toggleHand(): Promise<void> {
    await client.raiseHand(!handRaised).catch((err: unknown) => {
      showBanner(undefined);
      banner.hidden = false;
      setTextLocalized(banner, () => errorMessage(err));
    });
  }
  function syncMic(): void {
    micButton.setAttribute('aria-pressed', String(micMuted));
    micButton.disabled = micHeldByChair;
    micButton.dataset.heldByChair = String(micHeldByChair);
    setText(micButton, micHeldByChair ? 'room.micHeldByChair' : micMuted ? 'room.unmuteMic' : 'room.muteMic');
    self.setMicMuted(micMuted);
  }
  async function toggleMic(): Promise<void> {
    if (micHeldByChair) return;
    micMuted = !micMuted;
    syncMic();
    await client.setMicrophoneMuted(micMuted).catch(() => undefined);
  }
  function toggleCam(): void {
    camOff = !camOff;
    // A disabled track sends black frames at almost no bitrate; the tile shows it at once.
    for (const track of stream.getVideoTracks()) track.enabled = !camOff;
    camButton.setAttribute('aria-pressed', String(camOff));
    setText(camButton, camOff ? 'room.unmuteCam' : 'room.muteCam');
  }
  function showLocalRecorders(): void {
    const names = () => [...client.localRecorders.values()].map((r) => (r.peerId === client.info?.peerId ? t('room.you') : r.label));
    localRecBanner.hidden = names().length === 0;
    if (names().length > 0) setTextLocalized(localRecBanner, () => t('room.localRecordingBanner', { names: names().join(', ') }));
    document.body.dataset.localRecording = String(names().length > 0);
  }
  let localRecorder: LocalRoomRecorder | undefined;
  let localRecBusy = false;
  function syncLocalRecButton(): void {
    const on = localRecorder !== undefined;
    localRecButton.setAttribute('aria-pressed', String(on));
    localRecButton.classList.toggle('danger', on);
    setText(localRecButton, on ? 'room.localRecordStop' : 'room.localRecord');
  }
  async function toggleLocalRecording(): Promise<void> {
    if (localRecBusy) return;
    localRecBusy = true;
    try {
      if (localRecorder) await stopLocalRecording(true);
      else await startLocalRecording();
    } finally {
      localRecBusy = false;
    }
  }
  async function startLocalRecording(): Promise<void> {
    if (!LocalRoomRecorder.supported()) {
      showBanner('room.localRecordingUnsupported');
      return;
    }
    try {
      // The server first: it refuses when the chair forbids it, and tells everyone when it allows.
      await client.startLocalRecording();
    } catch (err) {
      const code = (err as { code?: string }).code;
      banner.hidden = false;
      if (code === 'LOCAL_RECORDING_FORBIDDEN') setText(banner, 'room.localRecordingForbidden');
      else setText(banner, 'room.localRecordingFailed', { message: errorMessage(err) });
      return;
    }
    try {
      const recorder = new LocalRoomRecorder({
        main: () => stage.querySelector('video') ?? undefined,
        thumbnails: () => [...strip.querySelectorAll('video')],
        audioTracks: () => [...[...client.remoteTracks.values()].filter((r) => r.kind === 'audio').map((r) => r.track), ...(micMuted ? [] : stream.getAudioTracks())],
      });
      recorder.start();
      localRecorder = recorder;
      syncLocalRecButton();
    } catch (err) {
      await client.stopLocalRecording().catch(() => undefined);
      banner.hidden = false;
      setText(banner, 'room.localRecordingFailed', { message: errorMessage(err) });
    }
  }
  /** Stops the recorder and offers the WebM file; `tellServer` false when the server already ended it. */
  async function stopLocalRecording(tellServer: boolean): Promise<void> {
    const recorder = localRecorder;
    if (!recorder) return;
    localRecorder = undefined;
    syncLocalRecButton();
    if (tellServer) await client.stopLocalRecording().catch(() => undefined);
    offerDownload(recorder.fileName(), await recorder.stop());
  }
  function offerDownload(name: string, blob: Blob): void {
    const link = h('a', { href: URL.createObjectURL(blob), download: name, class: 'button', 'data-size': blob.size });
    setText(link, 'room.localRecordingSaved', { size: `${(blob.size / 1048576).toFixed(1)} MB` });
    // Shown after the session too (the room page is replaced by the final message then).
    (finished ? root : downloads).append(link);
    link.click();
  }

  let finished = false;
  function finish(key: MessageKey): void {
    if (finished) return;
    finished = true;
    clearInterval(statsTimer);
    const recorder = localRecorder;
    localRecorder = undefined;
    fullScreenMessage(key);
    // A recording still running when the session ends or we leave is kept, not lost.
    if (recorder) {
      void recorder
        .stop()
        .then((blob) => offerDownload(recorder.fileName(), blob))
        .finally(() => stopStream(stream));
    } else stopStream(stream);
  }
  async function leave(): Promise<void> {
    if (!confirm(t('room.leaveConfirm'))) return;
    await client.leave();
    finish('room.left');
  }

  // Connection quality per tile, from the bitrate actually received for each peer's video.
  let lastBytes = new Map<string, { bytes: number; at: number }>();
  const statsTimer = window.setInterval(() => {
    void client
      .inboundBytes()
      .then((entries) => {
        const now = performance.now();
        const next = new Map<string, { bytes: number; at: number }>();
        for (const e of entries) {
          if (e.kind !== 'video') continue;
          next.set(e.peerId, { bytes: e.bytes, at: now });
          const before = lastBytes.get(e.peerId);
          if (before) {
            const kbps = Math.round(((e.bytes - before.bytes) * 8) / (now - before.at));
            tiles.get(e.peerId)?.setQuality(qualityFromKbps(kbps), kbps);
          }
        }
        lastBytes = next;
      })
      .catch(() => undefined);
  }, 2000);

  try {
    await client.join();
  } catch (err) {
    clearInterval(statsTimer);
    const code = (err as { code?: string }).code ?? '';
    if (/^TOKEN_/.test(code)) fullScreenMessage('invite.invalid');
    else if (code === 'SESSION_ENDED') fullScreenMessage('room.ended');
    else if (code === 'SEAT_IN_USE') fullScreenMessage('room.seatInUse');
    else if (code === 'PEER_EJECTED') fullScreenMessage('room.kicked');
    else fullScreenMessage('common.error', { message: errorMessage(err) });
  }
}

async function main(): Promise<void> {
  const inv = takeInvitation();
  if (!inv || isExpired(inv)) {
    fullScreenMessage('invite.invalid');
    return;
  }
  setDocumentTitle(() => `${inv.displayName ?? t('app.title')} – ${t('app.title')}`);
  await setup(inv);
}

void main().catch((err: unknown) => {
  root.append(h('p', { class: 'error', role: 'alert' }, dyn(() => t('common.error', { message: errorMessage(err) }))));
});
