/**
 * What a page can read from its invitation link. The token is signed, not encrypted: the page may
 * read its claims for display (session, role, name, expiry); only the server trusts them.
 */
export interface Invitation {
  token: string;
  tokenId: string;
  sessionId: string;
  subject: string;
  role: string;
  displayName: string | undefined;
  expiresAt: Date;
}

function base64UrlDecode(text: string): string {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * Reads the invitation from the link: /join#token=<token> (the printed invitation's form: a
 * fragment never reaches a server or a proxy log) or /join/<token>; undefined when unreadable.
 */
export function invitationFromPath(pathname: string = location.pathname, hash: string = location.hash): Invitation | undefined {
  const fromHash = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  const match = /^\/(?:join|test)\/([^/?#]+)/.exec(pathname);
  const raw = fromHash ?? (match ? decodeURIComponent(match[1]!) : undefined);
  if (!raw) return undefined;
  const token = raw.trim();
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(base64UrlDecode(parts[1]!)) as Record<string, unknown>;
    if (typeof claims.sid !== 'string' || typeof claims.exp !== 'number') return undefined;
    return {
      token,
      tokenId: String(claims.jti ?? ''),
      sessionId: claims.sid,
      subject: String(claims.sub ?? ''),
      role: String(claims.role ?? 'endpoint'),
      displayName: typeof claims.name === 'string' ? claims.name : undefined,
      expiresAt: new Date(claims.exp * 1000),
    };
  } catch {
    return undefined;
  }
}

export function isExpired(invitation: Invitation, now = Date.now()): boolean {
  return invitation.expiresAt.getTime() <= now;
}
