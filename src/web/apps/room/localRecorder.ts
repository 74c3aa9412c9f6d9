/**
 * Records what the room page shows into a WebM file in the participant's own browser, for bridge
 * points the chair allows to keep a local copy. The picture is the page's main tile full size with
 * the other tiles as a row of thumbnails (drawn onto a canvas, so tiles moving between stage and
 * strip never break the file), a clock in the corner; the sound is every remote voice mixed with the
 * local microphone. One MediaRecorder over one composed stream is what browsers record reliably.
 */

export interface RoomRecordingSources {
  /** The video shown large (the stage), if any. */
  main(): HTMLVideoElement | undefined;
  /** The other videos on the page (the strip, this bridge point's own included). */
  thumbnails(): HTMLVideoElement[];
  /** Every audio track the room plays, plus the local microphone. */
  audioTracks(): MediaStreamTrack[];
}

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 15;
const THUMB_W = 256;
const THUMB_H = 144;

/** The first WebM flavour this browser's MediaRecorder supports. */
function webmMimeType(): string {
  for (const type of ['video/webm;codecs=vp8,opus', 'video/webm;codecs=vp9,opus', 'video/webm']) {
    if (MediaRecorder.isTypeSupported(type)) return type;
  }
  return '';
}

export class LocalRoomRecorder {
  readonly startedAt = new Date();
  readonly #sources: RoomRecordingSources;
  readonly #canvas: HTMLCanvasElement;
  readonly #ctx: CanvasRenderingContext2D;
  readonly #audio: AudioContext;
  readonly #mix: MediaStreamAudioDestinationNode;
  /** Audio sources mixed in so far, by track id (tracks joining later are added as they appear). */
  readonly #mixed = new Map<string, { track: MediaStreamTrack; node: MediaStreamAudioSourceNode }>();
  readonly #recorder: MediaRecorder;
  readonly #chunks: Blob[] = [];
  readonly #stopped: Promise<Blob>;
  #timer: number | undefined;

  static supported(): boolean {
    return typeof MediaRecorder !== 'undefined' && typeof HTMLCanvasElement.prototype.captureStream === 'function' && typeof AudioContext !== 'undefined';
  }

  constructor(sources: RoomRecordingSources) {
    this.#sources = sources;
    this.#canvas = document.createElement('canvas');
    this.#canvas.width = WIDTH;
    this.#canvas.height = HEIGHT;
    this.#ctx = this.#canvas.getContext('2d')!;
    this.#audio = new AudioContext();
    this.#mix = this.#audio.createMediaStreamDestination();
    this.#draw();
    this.#syncAudio();
    const stream = new MediaStream([...this.#canvas.captureStream(FPS).getVideoTracks(), ...this.#mix.stream.getAudioTracks()]);
    const mimeType = webmMimeType();
    this.#recorder = new MediaRecorder(stream, mimeType ? { mimeType, videoBitsPerSecond: 1_500_000 } : {});
    this.#recorder.addEventListener('dataavailable', (e) => {
      if (e.data.size > 0) this.#chunks.push(e.data);
    });
    this.#stopped = new Promise((resolve) => {
      this.#recorder.addEventListener('stop', () => resolve(new Blob(this.#chunks, { type: 'video/webm' })), { once: true });
    });
  }

  get recording(): boolean {
    return this.#recorder.state === 'recording';
  }

  start(): void {
    // Started from a click, so the audio context may run (autoplay rules).
    void this.#audio.resume().catch(() => undefined);
    // A timer, not requestAnimationFrame: rAF stops while the tab is in the background.
    this.#timer = window.setInterval(() => {
      this.#draw();
      this.#syncAudio();
    }, 1000 / FPS);
    // Chunks every second: a crash of the tab loses at most the last second of what was gathered.
    this.#recorder.start(1000);
  }

  /** Stops and returns the WebM file (empty Blob if nothing was recorded). */
  async stop(): Promise<Blob> {
    window.clearInterval(this.#timer);
    if (this.#recorder.state !== 'inactive') this.#recorder.stop();
    const blob = await this.#stopped;
    for (const track of this.#recorder.stream.getTracks()) track.stop();
    for (const { node } of this.#mixed.values()) node.disconnect();
    this.#mixed.clear();
    void this.#audio.close().catch(() => undefined);
    return blob;
  }

  /** A file name without personal data: the date and time the recording started. */
  fileName(): string {
    const d = this.startedAt;
    const two = (n: number) => String(n).padStart(2, '0');
    return `ghi-hinh-diem-cau-${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}.webm`;
  }

  #draw(): void {
    const ctx = this.#ctx;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    const main = this.#sources.main();
    if (main) drawFitted(ctx, main, 0, 0, WIDTH, HEIGHT);
    const thumbs = this.#sources.thumbnails().filter((v) => v !== main && v.videoWidth > 0);
    thumbs.slice(0, Math.floor(WIDTH / THUMB_W)).forEach((video, i) => {
      const x = WIDTH - (i + 1) * THUMB_W;
      const y = HEIGHT - THUMB_H;
      ctx.fillStyle = '#000';
      ctx.fillRect(x, y, THUMB_W, THUMB_H);
      drawFitted(ctx, video, x, y, THUMB_W, THUMB_H);
      ctx.strokeStyle = '#fff';
      ctx.strokeRect(x + 0.5, y + 0.5, THUMB_W - 1, THUMB_H - 1);
    });
    // The wall-clock time in the picture: whoever watches the copy later knows when it was said.
    const clock = new Date().toLocaleString('vi-VN');
    ctx.font = '20px sans-serif';
    ctx.fillStyle = 'rgba(0,0,0,.6)';
    ctx.fillRect(8, 8, ctx.measureText(clock).width + 16, 30);
    ctx.fillStyle = '#fff';
    ctx.fillText(clock, 16, 30);
  }

  #syncAudio(): void {
    const live = new Set<string>();
    for (const track of this.#sources.audioTracks()) {
      if (track.readyState !== 'live') continue;
      live.add(track.id);
      if (this.#mixed.has(track.id)) continue;
      const node = this.#audio.createMediaStreamSource(new MediaStream([track]));
      node.connect(this.#mix);
      this.#mixed.set(track.id, { track, node });
    }
    for (const [id, entry] of this.#mixed) {
      if (live.has(id)) continue;
      entry.node.disconnect();
      this.#mixed.delete(id);
    }
  }
}

function drawFitted(ctx: CanvasRenderingContext2D, video: HTMLVideoElement, x: number, y: number, w: number, h: number): void {
  if (video.videoWidth === 0 || video.videoHeight === 0) return;
  const scale = Math.min(w / video.videoWidth, h / video.videoHeight);
  const dw = video.videoWidth * scale;
  const dh = video.videoHeight * scale;
  ctx.drawImage(video, x + (w - dw) / 2, y + (h - dh) / 2, dw, dh);
}
