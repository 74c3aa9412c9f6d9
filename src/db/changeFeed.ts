import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from '../logging/logger.ts';

export type ChangeFeedEvents = {
  /** A committed write told on the channel; the payload (the trigger's table name). */
  change: [payload: string];
  /**
   * The feed went up (LISTEN acknowledged) or down (connection lost or closed). While down, writes
   * may be missed: a cache on the feed must not answer from memory, and forgets all on the way up.
   */
  state: [listening: boolean];
};

/**
 * PostgreSQL LISTEN on one channel (issue 14 item 4), on a connection of its own: a pooled
 * connection goes back to the pool and would stop hearing. NOTIFY reaches every listener of the
 * database at commit, whichever process wrote, so caches in any server hear each other's writes.
 * Reconnects with a growing pause after a loss; `listening` says whether writes are being heard now.
 */
export class ChangeFeed extends EventEmitter<ChangeFeedEvents> {
  readonly #url: string;
  readonly #channel: string;
  readonly #logger: Logger;
  #client: pg.Client | undefined;
  #listening = false;
  #closed = false;
  #retryMs = 250;
  #timer: NodeJS.Timeout | undefined;

  constructor(url: string, channel: string, logger: Logger) {
    super();
    this.#url = url;
    this.#channel = channel;
    this.#logger = logger;
  }

  get listening(): boolean {
    return this.#listening;
  }

  /** Resolves once listening (or rejects on the first failure; the feed keeps retrying either way). */
  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.#url });
    this.#client = client;
    client.on('notification', (msg) => {
      if (msg.channel === this.#channel) this.emit('change', msg.payload ?? '');
    });
    const lost = (err?: Error) => {
      if (this.#client !== client) return;
      this.#client = undefined;
      this.#setListening(false);
      client.end().catch(() => undefined);
      if (this.#closed) return;
      this.#logger.warn({ err: err?.message, retryMs: this.#retryMs }, 'change feed lost its database connection; caches on it answer from the database until it is back');
      this.#timer = setTimeout(() => void this.#connect().catch(() => undefined), this.#retryMs);
      this.#retryMs = Math.min(this.#retryMs * 2, 10_000);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`listen ${pg.escapeIdentifier(this.#channel)}`);
    } catch (err) {
      lost(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    if (this.#client !== client) return;
    this.#retryMs = 250;
    this.#setListening(true);
  }

  #setListening(value: boolean): void {
    if (this.#listening === value) return;
    this.#listening = value;
    this.emit('state', value);
  }

  /** Test hook and shutdown: drops the connection as a network loss would (reconnects unless closed). */
  async drop(): Promise<void> {
    const client = this.#client;
    if (client === undefined) return;
    client.emit('error', new Error('dropped'));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    this.#setListening(false);
    await client?.end().catch(() => undefined);
  }
}
