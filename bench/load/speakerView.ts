/**
 * What the chair's screen asks of the SFU, for a synthetic central point: every commune's video
 * small (the lowest layer) and the speaker's large (the top layer). The speaker is the commune
 * whose microphone is live (its audio arrives unpaused: it has the floor), or whichever the server
 * names in `activeSpeaker`, whichever came last. Chromium's central page does the same
 * (centralPage.ts showAsThumbnails).
 */
export interface ViewSize {
  width: number;
  height: number;
}

export class SpeakerView {
  readonly #resize: (consumerId: string, size: ViewSize) => void;
  readonly #small: ViewSize;
  readonly #large: ViewSize;
  readonly #videoOf = new Map<string, string>();
  readonly #peerOfAudio = new Map<string, string>();
  #wanted: string | undefined;
  #shownLarge: string | undefined;

  constructor(resize: (consumerId: string, size: ViewSize) => void, small: ViewSize, large: ViewSize) {
    this.#resize = resize;
    this.#small = small;
    this.#large = large;
  }

  /** A new consumer (newConsumer): videos start small; a live microphone names the speaker. */
  consumer(c: { consumerId: string; peerId: string; kind: 'audio' | 'video'; producerPaused?: boolean | undefined }): void {
    if (c.kind === 'video') {
      this.#videoOf.set(c.peerId, c.consumerId);
      this.#resize(c.consumerId, this.#small);
      if (c.peerId === this.#wanted) this.speaker(c.peerId);
      return;
    }
    this.#peerOfAudio.set(c.consumerId, c.peerId);
    if (c.producerPaused !== true) this.speaker(c.peerId);
  }

  /** consumerResumed: an audio consumer resuming is a microphone turned on (the floor given). */
  resumed(consumerId: string): void {
    const peerId = this.#peerOfAudio.get(consumerId);
    if (peerId !== undefined) this.speaker(peerId);
  }

  /** Shows `peerId` large (and the previous speaker small again); a peer without video is remembered. */
  speaker(peerId: string): void {
    this.#wanted = peerId;
    const video = this.#videoOf.get(peerId);
    if (video === undefined || video === this.#shownLarge) return;
    if (this.#shownLarge !== undefined) this.#resize(this.#shownLarge, this.#small);
    this.#shownLarge = video;
    this.#resize(video, this.#large);
  }
}
