import type { LiveStore } from './LiveStore.ts';

/** The in-process `LiveStore` for tests and the in-memory dev directory: forgets on restart. */
export class MemoryLiveStore implements LiveStore {
  readonly #ejected = new Set<string>();
  readonly #ended = new Set<string>();

  async eject(sessionId: string, tokenId: string): Promise<void> {
    this.#ejected.add(`${sessionId}\u0000${tokenId}`);
  }

  async isEjected(sessionId: string, tokenId: string): Promise<boolean> {
    return this.#ejected.has(`${sessionId}\u0000${tokenId}`);
  }

  async markEnded(sessionId: string): Promise<void> {
    this.#ended.add(sessionId);
  }

  async isEnded(sessionId: string): Promise<boolean> {
    return this.#ended.has(sessionId);
  }

  async close(): Promise<void> {}
}
