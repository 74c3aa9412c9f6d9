import type { MessageKey } from '../i18n/index.ts';
import { dyn, h, msg, setAttrLocalized, setText, text } from './dom.ts';
import { t } from '../i18n/index.ts';

export interface DeviceChoice {
  cameraId?: string | undefined;
  microphoneId?: string | undefined;
  /** Audio output (where the browser can choose one: Chromium, Edge). */
  speakerId?: string | undefined;
}

/** Whether this browser lets a page choose the speaker (Firefox and old Chromium do not). */
export const canChooseSpeaker = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

/** Camera and microphone at a resolution that old USB cameras and projectors both handle. */
export async function openLocalMedia(choice: DeviceChoice = {}): Promise<MediaStream> {
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) throw new MediaAccessError('devices.insecure');
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: { ...(choice.microphoneId ? { deviceId: { exact: choice.microphoneId } } : {}), echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      video: { ...(choice.cameraId ? { deviceId: { exact: choice.cameraId } } : {}), width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 25, max: 30 } },
    });
  } catch (err) {
    const name = (err as DOMException).name;
    if (name === 'NotAllowedError' || name === 'SecurityError') throw new MediaAccessError('devices.denied');
    if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'NotReadableError') throw new MediaAccessError('devices.notFound');
    throw err;
  }
}

/** A media failure with the plain-words explanation to show. */
export class MediaAccessError extends Error {
  readonly key: MessageKey;
  constructor(key: MessageKey) {
    super(t(key));
    this.key = key;
  }
}

export function stopStream(stream: MediaStream | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/** Measures a microphone's loudness (0–1) continuously, for the level meter and the silence check. */
export class LevelMeter {
  readonly #context: AudioContext;
  readonly #analyser: AnalyserNode;
  readonly #buffer: Float32Array<ArrayBuffer>;
  #timer: number | undefined;
  /** Highest level seen since creation: the pre-flight test uses it to tell "silent". */
  peak = 0;

  constructor(stream: MediaStream, onLevel: (level: number) => void) {
    this.#context = new AudioContext();
    const source = this.#context.createMediaStreamSource(stream);
    this.#analyser = this.#context.createAnalyser();
    this.#analyser.fftSize = 1024;
    source.connect(this.#analyser);
    this.#buffer = new Float32Array(this.#analyser.fftSize);
    void this.#context.resume().catch(() => undefined);
    this.#timer = window.setInterval(() => {
      this.#analyser.getFloatTimeDomainData(this.#buffer);
      let sum = 0;
      for (const v of this.#buffer) sum += v * v;
      const rms = Math.sqrt(sum / this.#buffer.length);
      // Speech sits around 0.02–0.2 RMS; a square-root scale makes quiet speech visible on the bar.
      const level = Math.min(1, Math.sqrt(rms * 5));
      this.peak = Math.max(this.peak, rms);
      onLevel(level);
    }, 100);
  }

  close(): void {
    if (this.#timer !== undefined) window.clearInterval(this.#timer);
    this.#timer = undefined;
    void this.#context.close().catch(() => undefined);
  }
}

/** A labelled level bar (role meter) that a LevelMeter drives. */
export function levelBar(): { element: HTMLElement; set(level: number): void } {
  const fill = h('div');
  const bar = h('div', { class: 'meter', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 }, fill);
  setAttrLocalized(bar, 'aria-label', msg('devices.micLevel'));
  bar.dataset.i18nAttr = 'aria-label:devices.micLevel';
  return {
    element: bar,
    set(level: number) {
      const pct = Math.round(level * 100);
      fill.style.width = `${pct}%`;
      bar.setAttribute('aria-valuenow', String(pct));
    },
  };
}

/** Device pickers for camera, microphone (and speaker where the browser can choose one). */
export async function devicePickers(onChange: (choice: DeviceChoice) => void, onSpeaker?: (speakerId: string) => void): Promise<{ element: HTMLElement; choice(): DeviceChoice; refresh(): Promise<void> }> {
  const camera = h('select', { id: 'camera-select' });
  const microphone = h('select', { id: 'microphone-select' });
  const speaker = h('select', { id: 'speaker-select' });
  const element = h(
    'div',
    { class: 'devices' },
    h('div', { class: 'field' }, labelFor('camera-select', 'devices.camera'), camera),
    h('div', { class: 'field' }, labelFor('microphone-select', 'devices.microphone'), microphone),
    canChooseSpeaker ? h('div', { class: 'field' }, labelFor('speaker-select', 'devices.speaker'), speaker) : null,
  );
  const fill = (select: HTMLSelectElement, devices: MediaDeviceInfo[]) => {
    const previous = select.value;
    select.replaceChildren();
    devices.forEach((d, i) => select.append(h('option', { value: d.deviceId }, d.label || dyn(() => `${select === camera ? t('devices.camera') : t('devices.microphone')} ${i + 1}`))));
    if (devices.some((d) => d.deviceId === previous)) select.value = previous;
  };
  const refresh = async () => {
    const devices = await navigator.mediaDevices.enumerateDevices();
    fill(camera, devices.filter((d) => d.kind === 'videoinput'));
    fill(microphone, devices.filter((d) => d.kind === 'audioinput'));
    if (canChooseSpeaker) fill(speaker, devices.filter((d) => d.kind === 'audiooutput'));
  };
  const choice = (): DeviceChoice => ({ cameraId: camera.value || undefined, microphoneId: microphone.value || undefined, speakerId: speaker.value || undefined });
  speaker.addEventListener('change', () => onSpeaker?.(speaker.value));
  camera.addEventListener('change', () => onChange(choice()));
  microphone.addEventListener('change', () => onChange(choice()));
  navigator.mediaDevices?.addEventListener?.('devicechange', () => void refresh());
  return { element, choice, refresh };
}

export function labelFor(id: string, key: MessageKey): HTMLLabelElement {
  const l = h('label', { for: id });
  setText(l, key);
  return l;
}

/** A two-tone chime through the default speaker (the speaker check). */
export async function playChime(speakerId?: string): Promise<void> {
  const ctx = new AudioContext();
  await ctx.resume();
  const gain = ctx.createGain();
  gain.gain.value = 0.25;
  // Through the chosen speaker when the browser allows it: the sound goes to an audio element.
  const out = speakerId && canChooseSpeaker ? ctx.createMediaStreamDestination() : undefined;
  gain.connect(out ?? ctx.destination);
  if (out) {
    const el = new Audio();
    el.srcObject = out.stream;
    await el.setSinkId(speakerId!).catch(() => undefined);
    void el.play().catch(() => undefined);
  }
  for (const [freq, at] of [
    [660, 0],
    [880, 0.35],
  ] as const) {
    const osc = ctx.createOscillator();
    osc.frequency.value = freq;
    osc.connect(gain);
    osc.start(ctx.currentTime + at);
    osc.stop(ctx.currentTime + at + 0.3);
  }
  await new Promise((r) => setTimeout(r, 800));
  await ctx.close();
}

export function videoElement(stream: MediaStream | undefined, opts: { muted?: boolean; label?: MessageKey } = {}): HTMLVideoElement {
  const v = h('video', { autoplay: true, playsinline: true });
  v.muted = opts.muted ?? false;
  if (opts.label) {
    setAttrLocalized(v, 'aria-label', msg(opts.label));
    v.dataset.i18nAttr = `aria-label:${opts.label}`;
  }
  if (stream) v.srcObject = stream;
  return v;
}

export { text };
