import { createHmac } from 'node:crypto';

export interface TurnSettings {
  /** turn:/turns: URIs handed to clients, e.g. turn:turn.example.vn:3478?transport=tcp */
  urls: string[];
  /** coturn's `static-auth-secret` (use-auth-secret / TURN REST API). */
  secret: string;
  ttlSeconds: number;
  /**
   * The URLs for a browser that reached this machine at `host` (the embedded TURN without an
   * announced address: the address a commune can route to beats any one chosen at start-up).
   */
  urlsFor?: ((host: string) => string[]) | undefined;
}

export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

/**
 * Time-limited TURN credentials in coturn's REST scheme: username `<expiry>:<peerId>`, password
 * base64(HMAC-SHA1(secret, username)). No TURN server configured: no ICE servers (the SFU's own
 * UDP and TCP candidates are enough on reachable networks).
 */
export function turnIceServers(turn: TurnSettings | undefined, peerId: string, now: Date = new Date(), reachedHost?: string): IceServer[] {
  if (turn === undefined || turn.urls.length === 0) return [];
  const username = `${Math.floor(now.getTime() / 1000) + turn.ttlSeconds}:${peerId}`;
  const credential = createHmac('sha1', turn.secret).update(username).digest('base64');
  const host = reachedHost?.startsWith('::ffff:') ? reachedHost.slice(7) : reachedHost;
  const urls = host !== undefined && turn.urlsFor !== undefined ? turn.urlsFor(host) : turn.urls;
  return [{ urls, username, credential }];
}
