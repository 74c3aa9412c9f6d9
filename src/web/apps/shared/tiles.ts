import { dyn, h, type Localized, msg, setAttrLocalized, setText, text } from '../../ui/dom.ts';
import { t, type MessageKey } from '../../i18n/index.ts';

export type Quality = 'good' | 'fair' | 'poor' | 'unknown';

/** Video bitrate → a word a commune official understands (thresholds for a 720p camera with simulcast). */
export function qualityFromKbps(kbps: number | null): Quality {
  if (kbps === null) return 'unknown';
  if (kbps >= 250) return 'good';
  if (kbps >= 80) return 'fair';
  return 'poor';
}

const ROLE_KEYS: Record<string, MessageKey> = { host: 'role.host', central: 'role.central', endpoint: 'role.endpoint', observer: 'role.observer', technician: 'role.technician' };

export function roleKey(role: string): MessageKey {
  return ROLE_KEYS[role] ?? 'role.endpoint';
}

/**
 * One participant's picture with its name, bridge-point role and connection quality; audio plays
 * through a hidden audio element so that moving the tile between stage and strip never cuts sound.
 */
export class Tile {
  readonly element: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly audio: HTMLAudioElement;
  readonly peerId: string;
  readonly #placeholder: HTMLElement;
  readonly #quality: HTMLElement;
  readonly #muted: HTMLElement;
  readonly #stream = new MediaStream();
  role: string;
  /** performance.now() when the first video frame of this tile was shown. */
  firstFrameAt: number | undefined;

  constructor(options: { peerId: string; label: string | Localized; role: string; self?: boolean; stream?: MediaStream }) {
    this.peerId = options.peerId;
    this.role = options.role;
    this.video = h('video', { autoplay: true, playsinline: true });
    this.video.muted = true; // sound goes through the audio element
    this.audio = h('audio', { autoplay: true });
    this.#placeholder = h('div', { class: 'placeholder' }, text('room.waitingVideo'));
    this.#quality = h('span', { class: 'badge unknown' });
    setText(this.#quality, 'room.quality.unknown');
    this.#quality.hidden = options.self === true; // one's own picture needs no quality badge
    this.#muted = h('span', { class: 'badge poor', hidden: true });
    setText(this.#muted, 'room.micOff');
    const roleLabel = text(options.self ? 'room.you' : roleKey(options.role));
    roleLabel.className = 'badge unknown';
    this.element = h(
      'figure',
      { class: `tile${options.self ? ' self' : ''}`, 'data-peer-id': options.peerId, 'data-role': options.role, 'aria-label': options.label },
      this.video,
      this.#placeholder,
      this.audio,
      h('figcaption', { class: 'label' }, h('span', { class: 'name' }, options.label), roleLabel, this.#quality, this.#muted),
    );
    this.element.style.margin = '0';
    this.video.addEventListener('resize', () => this.#onFrame());
    this.video.addEventListener('playing', () => this.#onFrame());
    if (options.stream) {
      this.video.srcObject = options.stream;
    }
  }

  #onFrame(): void {
    if (this.video.videoWidth > 0) {
      this.#placeholder.hidden = true;
      this.firstFrameAt ??= performance.now();
      this.element.dataset.video = 'playing';
    }
  }

  addTrack(track: MediaStreamTrack): void {
    if (track.kind === 'audio') {
      this.audio.srcObject = new MediaStream([track]);
      void this.audio.play().catch(() => undefined);
      return;
    }
    for (const old of this.#stream.getVideoTracks()) this.#stream.removeTrack(old);
    this.#stream.addTrack(track);
    this.video.srcObject = this.#stream;
    void this.video.play().catch(() => undefined);
  }

  removeTrack(kind: string): void {
    if (kind === 'audio') this.audio.srcObject = null;
    else {
      for (const old of this.#stream.getVideoTracks()) this.#stream.removeTrack(old);
      this.#placeholder.hidden = false;
      delete this.element.dataset.video;
    }
  }

  setQuality(q: Quality, kbps?: number): void {
    this.#quality.className = `badge ${q}`;
    setText(this.#quality, `room.quality.${q}` as MessageKey);
    if (kbps !== undefined) this.#quality.title = `${kbps} kbit/s`;
    this.element.dataset.quality = q;
  }

  setMicMuted(muted: boolean): void {
    this.#muted.hidden = !muted;
  }

  setSpeaking(speaking: boolean): void {
    this.element.classList.toggle('speaking', speaking);
    // While speaking only (an empty value removes the attribute).
    setAttrLocalized(this.element, 'aria-description', speaking ? msg('room.speaking') : dyn(() => ''));
  }

  /** After a move in the DOM a video pauses; start it again. */
  replay(): void {
    void this.video.play().catch(() => undefined);
    if (this.audio.srcObject) void this.audio.play().catch(() => undefined);
  }
}
