/**
 * "Xin phát biểu": NĐ 154/2026 Art 21(2) keeps the points' microphones off until the chair asks a
 * person to speak. A point raises its hand; the chair gives it the floor, and its page turns its
 * microphone on. This holds the raised hands per session, in the order they were raised (who asked
 * first is who the chair sees first). Nothing here is stored: a hand lives as long as the session.
 */
export interface RaisedHand {
  peerId: string;
  label: string;
  raisedAt: string;
}

export class FloorRequests {
  readonly #hands = new Map<string, Map<string, RaisedHand>>();

  /** Raises or lowers a peer's hand; false when nothing changed. */
  set(sessionId: string, peerId: string, label: string, raised: boolean, now: Date): boolean {
    const hands = this.#hands.get(sessionId) ?? new Map<string, RaisedHand>();
    if (hands.has(peerId) === raised) return false;
    if (raised) hands.set(peerId, { peerId, label, raisedAt: now.toISOString() });
    else hands.delete(peerId);
    if (hands.size === 0) this.#hands.delete(sessionId);
    else this.#hands.set(sessionId, hands);
    return true;
  }

  /** The raised hands of a session, first raised first. */
  list(sessionId: string): RaisedHand[] {
    return [...(this.#hands.get(sessionId)?.values() ?? [])].sort((a, b) => a.raisedAt.localeCompare(b.raisedAt));
  }

  clear(sessionId: string): void {
    this.#hands.delete(sessionId);
  }
}
