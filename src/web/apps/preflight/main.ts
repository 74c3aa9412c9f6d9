import '../../ui/styles.css';
import { dyn, h, msg, pageHeader, setDocumentTitle, setText, setTextLocalized, text, button, errorMessage } from '../../ui/dom.ts';
import { LevelMeter, MediaAccessError, devicePickers, levelBar, openLocalMedia, playChime, stopStream, videoElement } from '../../ui/media.ts';
import { t, type MessageKey } from '../../i18n/index.ts';
import { takeInvitation, isExpired } from '../shared/invitation.ts';
import { reportPreflight, type PreflightReport } from '../shared/controlApi.ts';
import { judgeLoopback, runLoopback, type LoopbackResult } from './loopback.ts';

type State = 'pending' | 'running' | 'pass' | 'warn' | 'fail';
type Step = 'camera' | 'microphone' | 'speaker' | 'udp' | 'tcp' | 'report';
const STEPS: Step[] = ['camera', 'microphone', 'speaker', 'udp', 'tcp', 'report'];
const STATE_KEYS: Record<State, MessageKey> = { pending: 'preflight.pending', running: 'preflight.running', pass: 'preflight.pass', warn: 'preflight.warn', fail: 'preflight.fail' };

const root = document.getElementById('app')!;
setDocumentTitle(() => t('app.title.preflight'));
const invitation = takeInvitation();

function rowsFor() {
  const rows = new Map<Step, { state: HTMLElement; detail: HTMLElement; li: HTMLElement }>();
  const list = h('ol', { class: 'checks', 'aria-label': msg('preflight.title') });
  for (const step of STEPS) {
    const state = text('preflight.pending', undefined, 'span');
    state.className = 'state pending';
    const detail = h('span', { class: 'detail' });
    const li = h('li', { 'data-step': step }, text(`preflight.step.${step}` as MessageKey, undefined, 'strong'), state, detail);
    rows.set(step, { state, detail, li });
    list.append(li);
  }
  const set = (step: Step, state: State, detailKey?: MessageKey, params?: Record<string, string | number>) => {
    const row = rows.get(step)!;
    row.li.dataset.state = state;
    row.state.className = `state ${state}`;
    setText(row.state, STATE_KEYS[state]);
    if (detailKey) setText(row.detail, detailKey, params);
    else setTextLocalized(row.detail, () => '');
  };
  return { list, set, rows };
}

async function main(): Promise<void> {
  root.replaceChildren();
  if (!invitation || isExpired(invitation)) {
    root.append(pageHeader('preflight.title'), h('main', { class: 'ended' }, h('div', { class: 'card' }, text('invite.invalid', undefined, 'p'))));
    return;
  }
  const inv = invitation;
  const preview = videoElement(undefined, { muted: true, label: 'devices.preview' });
  const returned = videoElement(undefined, { muted: true });
  returned.id = 'loopback-video';
  const meter = levelBar();
  const mediaStatus = h('p', { class: 'status', role: 'alert' });
  let stream: MediaStream | undefined;
  let level: LevelMeter | undefined;
  const pickers = await devicePickers((choice) => void openDevices(choice));

  async function openDevices(choice = pickers.choice()): Promise<void> {
    stopStream(stream);
    level?.close();
    setTextLocalized(mediaStatus, () => '');
    try {
      stream = await openLocalMedia(choice);
      preview.srcObject = stream;
      level = new LevelMeter(stream, (v) => meter.set(v));
      await pickers.refresh();
    } catch (err) {
      stream = undefined;
      mediaStatus.className = 'status error';
      if (err instanceof MediaAccessError) setText(mediaStatus, err.key);
      else setTextLocalized(mediaStatus, () => errorMessage(err));
    }
  }

  const checks = rowsFor();
  const verdict = h('div', { class: 'verdict', role: 'status', 'aria-live': 'polite', hidden: true });
  const reasons = h('ul', { class: 'reasons' });
  const speakerBox = h('div', { class: 'card row', hidden: true });
  const start = button('preflight.start', () => void runAll(), { class: 'primary big', id: 'start-test' });

  root.append(
    pageHeader('preflight.title'),
    h(
      'main',
      { class: 'setup' },
      h(
        'section',
        { class: 'stack', 'aria-labelledby': 'devices-h' },
        h('div', { class: 'card stack' }, withId(text('preflight.intro', undefined, 'p'), 'intro'), inv.displayName ? h('p', {}, text('invite.bridgePoint', { name: inv.displayName }, 'strong')) : null),
        h('div', { class: 'card stack' }, withId(text('devices.title', undefined, 'h2'), 'devices-h'), h('div', { class: 'loopback' }, h('figure', { class: 'preview' }, preview, h('figcaption', {}, text('preflight.yourCamera'))), h('figure', { class: 'preview' }, returned, h('figcaption', {}, text('preflight.returned')))), meter.element, pickers.element, mediaStatus),
      ),
      h('section', { class: 'card stack', 'aria-labelledby': 'checks-h' }, withId(text('preflight.title', undefined, 'h2'), 'checks-h'), verdict, reasons, checks.list, speakerBox, h('div', { class: 'row' }, start)),
    ),
  );
  await openDevices();

  async function speakerCheck(): Promise<boolean> {
    speakerBox.hidden = false;
    speakerBox.replaceChildren();
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        speakerBox.hidden = true;
        resolve(ok);
      };
      speakerBox.append(
        text('preflight.speaker.question', undefined, 'p'),
        button('preflight.speaker.play', () => void playChime(pickers.choice().speakerId), { id: 'play-chime' }),
        button('preflight.speaker.heard', () => done(true), { class: 'primary', id: 'speaker-heard' }),
        button('preflight.speaker.notHeard', () => done(false), { class: 'danger', id: 'speaker-not-heard' }),
      );
      void playChime(pickers.choice().speakerId).catch(() => undefined);
      (speakerBox.querySelector('#speaker-heard') as HTMLButtonElement).focus();
    });
  }

  async function runAll(): Promise<void> {
    start.disabled = true;
    verdict.hidden = true;
    reasons.replaceChildren();
    for (const step of STEPS) checks.set(step, 'pending');
    const problems: MessageKey[] = [];
    const problemParams = new Map<MessageKey, Record<string, string | number>>();
    const report: PreflightReport = { camera: false, microphone: false, speaker: false, udp: null, tcp: null, passed: false, userAgent: navigator.userAgent };

    // Camera: a live track that delivers frames of a real size.
    checks.set('camera', 'running');
    if (!stream) await openDevices();
    const videoTrack = stream?.getVideoTracks()[0];
    if (videoTrack && videoTrack.readyState === 'live') {
      await waitForFrames(preview);
      report.camera = preview.videoWidth > 0;
    }
    if (report.camera) checks.set('camera', 'pass', 'preflight.camera.ok', { width: preview.videoWidth, height: preview.videoHeight });
    else {
      checks.set('camera', 'fail', 'preflight.camera.fail');
      problems.push('preflight.camera.fail');
    }

    // Microphone: some sound within three seconds (the meter's peak since it was opened).
    checks.set('microphone', 'running');
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && (level?.peak ?? 0) < 0.003) await new Promise((r) => setTimeout(r, 200));
    report.microphone = (level?.peak ?? 0) >= 0.003;
    if (report.microphone) checks.set('microphone', 'pass', 'preflight.mic.ok');
    else {
      checks.set('microphone', 'fail', 'preflight.mic.silent');
      problems.push('preflight.mic.silent');
    }

    // Speaker: only a person can tell; ask.
    checks.set('speaker', 'running', 'preflight.speaker.question');
    report.speaker = await speakerCheck();
    if (report.speaker) checks.set('speaker', 'pass', 'preflight.speaker.ok');
    else {
      checks.set('speaker', 'fail', 'preflight.speaker.fail');
      problems.push('preflight.speaker.fail');
    }

    // Network: through the real SFU, UDP then TCP.
    const judged: Record<'udp' | 'tcp', State> = { udp: 'fail', tcp: 'fail' };
    for (const transport of ['udp', 'tcp'] as const) {
      checks.set(transport, 'running');
      let r: LoopbackResult;
      if (!stream) r = { transport, connected: false, mediaReturned: false, rttMs: null, lossPercent: null, bitrateKbps: null, icePath: null, error: 'no media' };
      else {
        try {
          r = await runLoopback({ token: inv.token, transport, stream, measureMs: 5000, onReturned: (s) => (returned.srcObject = s) });
        } catch (err) {
          r = { transport, connected: false, mediaReturned: false, rttMs: null, lossPercent: null, bitrateKbps: null, icePath: null, error: errorMessage(err) };
        }
      }
      report[transport] = r;
      const state = judgeLoopback(r);
      judged[transport] = state;
      const figures = { rtt: r.rttMs ?? '?', loss: r.lossPercent ?? '?', bitrate: r.bitrateKbps ?? '?' };
      if (!r.connected) checks.set(transport, 'fail', 'preflight.net.blocked', { transport: transport.toUpperCase(), port: location.port || '443' });
      else if (!r.mediaReturned) checks.set(transport, 'fail', 'preflight.net.noMedia');
      else if (state === 'pass') checks.set(transport, 'pass', 'preflight.net.ok', figures);
      else checks.set(transport, state, 'preflight.net.slow', figures);
    }
    returned.srcObject = null;
    const networkOk = judged.udp !== 'fail' || judged.tcp !== 'fail';
    if (!networkOk) {
      problems.push('preflight.net.blocked');
      problemParams.set('preflight.net.blocked', { transport: 'UDP/TCP', port: location.port || '443' });
    } else if (judged.udp === 'fail') problems.push('preflight.udpOptional');

    report.passed = report.camera && report.microphone && report.speaker && networkOk;

    // Report to the Citizen Reception Board.
    checks.set('report', 'running');
    try {
      await reportPreflight(inv, report);
      checks.set('report', 'pass', 'preflight.report.ok');
    } catch (err) {
      checks.set('report', 'fail', 'preflight.report.fail', { message: errorMessage(err) });
    }

    verdict.hidden = false;
    verdict.className = `verdict ${report.passed ? 'pass' : 'fail'}`;
    verdict.dataset.result = report.passed ? 'pass' : 'fail';
    setText(verdict, report.passed ? 'preflight.result.pass' : 'preflight.result.fail');
    if (problems.length > 0) {
      reasons.append(h('li', { class: 'muted' }, text('preflight.result.reasons')));
      for (const key of problems) reasons.append(h('li', {}, text(key, problemParams.get(key))));
    }
    setText(start, 'preflight.again');
    start.disabled = false;
  }
}

function withId<T extends HTMLElement>(el: T, id: string): T {
  el.id = id;
  return el;
}

function waitForFrames(video: HTMLVideoElement): Promise<void> {
  if (video.videoWidth > 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 5000);
    video.addEventListener(
      'loadedmetadata',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

void main().catch((err: unknown) => {
  root.append(h('p', { class: 'error', role: 'alert' }, dyn(() => t('common.error', { message: errorMessage(err) }))));
});
