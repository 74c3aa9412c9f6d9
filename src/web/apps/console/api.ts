import type { UserView } from '../../../contract/views/user.ts';
import { ApiError, requestJson } from '../shared/http.ts';
import type { GetAnswer } from './getRoutes.ts';

export { ApiError };
// The control API's views, declared once in src/contract and imported as types only: esbuild drops
// these imports, so zod stays out of the bundle.
export type { Paged } from '../../../contract/views/paged.ts';
export type { SessionView } from '../../../contract/views/session.ts';
export type { InvitationView } from '../../../contract/views/invitation.ts';
/** The logged-in user: the `user` of the login answer. */
export type ConsoleUser = UserView;

const STORAGE_KEY = 'tiepdan.console.auth';





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

  /** Logs in; `passwordChangeRequired`: an administrator set the password, the API opens nothing else until it is changed. */
  async login(username: string, password: string): Promise<{ user: ConsoleUser; passwordChangeRequired: boolean }> {
    const answer = await requestJson<{ token: string; user: ConsoleUser; passwordChangeRequired?: boolean }>('POST', '/api/v1/auth/login', { body: { username, password } });
    this.token = answer.token;
    this.user = answer.user;
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ token: answer.token, user: answer.user }));
    return { user: answer.user, passwordChangeRequired: answer.passwordChangeRequired === true };
  }

  /** Changes the password (every token is revoked), then logs in with the new one. */
  async changePassword(username: string, currentPassword: string, newPassword: string): Promise<void> {
    await this.call('POST', '/auth/password', { currentPassword, newPassword });
    await this.login(username, newPassword);
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

  /**
   * GET, typed by the path: the answer is the contract's view that ConsoleGets (getRoutes.ts) lists
   * for it. Name `T` only for a path the table does not list (its answer is `unknown` otherwise).
   */
  get<T = never, P extends string = string>(path: P): Promise<[T] extends [never] ? GetAnswer<P> : T> {
    return this.call('GET', path);
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
