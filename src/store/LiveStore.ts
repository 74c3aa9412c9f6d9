/**
 * What the live side must remember across a restart (issue 12 item 3), behind one interface so
 * that tests use memory and the server PostgreSQL (the default), and a second node later shares
 * it (LiveKit's `ServiceStore` with `localstore`/`redisstore`, pkg/service/interfaces.go).
 *
 * The process keeps its hot copies (rooms, sockets, running jobs); this store holds only the facts
 * whose loss changes what a user may do: an ejected invitation must not come back after a
 * restart, a session the host ended must stay ended.
 */
export interface LiveStore {
  /** The host removed the holder of this invitation (its token id) from the session, for good. */
  eject(sessionId: string, tokenId: string): Promise<void>;
  isEjected(sessionId: string, tokenId: string): Promise<boolean>;
  /** The host ended the session from the room (the control API's status follows separately). */
  markEnded(sessionId: string): Promise<void>;
  isEnded(sessionId: string): Promise<boolean>;
  /** Releases what the store holds (a pool it owns); the store is unusable afterwards. */
  close(): Promise<void>;
}
