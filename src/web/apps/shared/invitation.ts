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

const STORE_KEY = 'tiepdan.invitation';

/**
 * The page's invitation, taken out of the address bar (security review L8): read from the link,
 * kept in this tab's sessionStorage (a reload still works), and the address replaced by the bare
 * /join or /test so the token is in no history entry, bookmark or screen shot of the address bar.
 */
export function takeInvitation(): Invitation | undefined {
  const page = location.pathname.startsWith('/test') ? '/test' : '/join';
  const fromLink = invitationFromPath();
  if (fromLink !== undefined) {
    try {
      sessionStorage.setItem(`${STORE_KEY}:${page}`, fromLink.token);
    } catch {
      // Storage refused (private mode): the page works, only a reload needs the link again.
    }
    history.replaceState(history.state, '', page);
    return fromLink;
  }
  let stored: string | null = null;
  try {
    stored = sessionStorage.getItem(`${STORE_KEY}:${page}`);
  } catch {
    stored = null;
  }
  return stored === null ? undefined : invitationFromPath('/', `#token=${encodeURIComponent(stored)}`);
}

export function isExpired(invitation: Invitation, now = Date.now()): boolean {
  return invitation.expiresAt.getTime() <= now;
}
