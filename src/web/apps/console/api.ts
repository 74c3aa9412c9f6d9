import { ApiError, requestJson } from '../shared/http.ts';

export { ApiError };

const STORAGE_KEY = 'tiepdan.console.auth';

export interface ConsoleUser {
  id: string;
  username: string;
  displayName: string;
  role: string;
  bridgePointId: string | null;
}

export interface Paged<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface SessionView {
  id: string;
  title: string;
  scheduledStart: string;
  scheduledEnd: string;
  location: string;
  chairTitle: string;
  status: string;
  statusReason: string;
  lobbyEnabled: boolean;
  autoRecord: boolean;
  notes: string;
  goLiveOverrideReason: string | null;
  cases: { caseId: string; reference: string; type: string; position: number; outcome: string | null }[];
  bridgePointIds: string[];
  participants: { id: string; role: string; label: string; bridgePointId: string | null }[];
  submissionDeadline: string;
  noticeDeadline: string;
}

export interface InvitationView {
  id: string;
  sessionId: string;
  bridgePointId: string | null;
  participantId: string | null;
  role: string;
  displayName: string;
  token: string;
  status: string;
  expiresAt: string;
}

/**
 * The console's access to the control API: the bearer token lives in sessionStorage (gone when the
 * browser tab closes, never in a URL); a 401 sends the operator back to the login form.
 */
export class ConsoleApi {
  token: string | undefined;
  user: ConsoleUser | undefined;
  onUnauthorized: () => void = () => undefined;

  constructor() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as { token: string; user: ConsoleUser } | null;
      if (saved) {
        this.token = saved.token;
        this.user = saved.user;
      }
    } catch {
      // nothing saved
    }
  }

  async login(username: string, password: string): Promise<ConsoleUser> {
    const answer = await requestJson<{ token: string; user: ConsoleUser }>('POST', '/api/v1/auth/login', { body: { username, password } });
    this.token = answer.token;
    this.user = answer.user;
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ token: answer.token, user: answer.user }));
    return answer.user;
  }

  async logout(): Promise<void> {
    await this.call('POST', '/auth/logout').catch(() => undefined);
    this.token = undefined;
    this.user = undefined;
    sessionStorage.removeItem(STORAGE_KEY);
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await requestJson<T>(method, `/api/v1${path}`, { token: this.token, body });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && this.token) {
        this.token = undefined;
        sessionStorage.removeItem(STORAGE_KEY);
        this.onUnauthorized();
      }
      throw err;
    }
  }

  /** A raw text body (CSV import). */
  async postText<T>(path: string, body: string, contentType: string): Promise<T> {
    const response = await fetch(`/api/v1${path}`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/json', authorization: `Bearer ${this.token ?? ''}` }, body });
    const answer = (await response.json().catch(() => ({}))) as { code?: string; message?: string; details?: unknown };
    if (!response.ok) throw new ApiError(response.status, answer.code ?? `HTTP_${response.status}`, answer.message ?? response.statusText, answer.details);
    return answer as T;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>('POST', path, body);
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PUT', path, body);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PATCH', path, body);
  }
}

export const api = new ConsoleApi();
