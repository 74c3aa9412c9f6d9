import type { TiepdanServer } from '../../server.ts';

/**
 * The few answer fields the ops tests read, all optional: a test asserts on what it expects
 * instead of trusting a type (the API's own schemas are tested in test/api).
 */
export type ApiBody = Partial<{
  token: string;
  id: string;
  reference: string;
  title: string;
  code: string;
  total: number;
  items: { id: string; reference: string }[];
  valid: boolean;
  reason: string | null;
  headSeq: number;
  keyedFromSeq: number;
}>;

export interface ApiAnswer {
  status: number;
  body: ApiBody;
}

/** JSON calls to a running server over real HTTP, as the console and integrations make them. */
export function apiFor(server: TiepdanServer): (method: string, url: string, o?: { token?: string | undefined; body?: unknown }) => Promise<ApiAnswer> {
  return async (method, url, o = {}) => {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${url}`, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') ? (JSON.parse(text) as ApiBody) : {} };
  };
}
