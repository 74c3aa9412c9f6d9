/**
 * Browser side, shared by both pages of bench/join-vs-raw.ts so that tiepdan and the raw
 * reference are timed by the same code: `window.bench` holds the socket-open time, a few marks
 * along the way and the first rendered frame of each remote video (requestVideoFrameCallback,
 * which fires when the compositor presents a decoded frame: the moment a person would see it).
 */
export interface BenchState {
  socketOpen: number | undefined;
  /** First time (performance.now()) each step happened: joinReply, newConsumer, track (a remote video set up), setupDone (own media sent). */
  marks: Record<string, number>;
  frames: { peerId: string; at: number }[];
  /** Every request: method, when it went out and when its answer came. */
  requests: { method: string; sent: number; answered?: number }[];
  error: string | undefined;
}

export const bench: BenchState = { socketOpen: undefined, marks: {}, frames: [], requests: [], error: undefined };
Object.assign(globalThis, { bench });

export function mark(name: string): void {
  bench.marks[name] ??= performance.now();
}

/** Notes every request, and when the first of each method went out (`method>`) and was answered (`method<`). */
export function timed<T>(method: string, reply: Promise<T>): Promise<T> {
  mark(`${method}>`);
  const entry: BenchState['requests'][number] = { method, sent: performance.now() };
  bench.requests.push(entry);
  return reply.then((r) => {
    mark(`${method}<`);
    entry.answered = performance.now();
    return r;
  });
}

/** Shows a remote video and notes when its first frame is presented. */
export function watchVideo(track: MediaStreamTrack, peerId: string): void {
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  video.style.width = '320px';
  video.style.height = '180px';
  video.srcObject = new MediaStream([track]);
  document.body.append(video);
  video.requestVideoFrameCallback(() => bench.frames.push({ peerId, at: performance.now() }));
}

/** The camera and microphone, taken before the socket opens (as the room page does: its preview). */
export function localMedia(): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
}
