import Fastify, { type FastifyBaseLogger, type FastifyInstance, type InjectOptions } from 'fastify';
import { controlApiPlugin } from '../../src/api/control/controlApiPlugin.ts';
import { installAccessControl, type RouteEntry } from '../../src/api/control/access.ts';
import { installErrorHandling } from '../../src/api/errors.ts';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import type { ChangeFeed } from '../../src/db/changeFeed.ts';
import { migrateToLatest } from '../../src/db/migrator.ts';
import { ControlServices } from '../../src/domain/controlServices.ts';
import { SESSION_LIST_CHANNEL } from '../../src/domain/sessions/sessionListCache.ts';
import type { AuthOptions } from '../../src/domain/auth/authService.ts';
import { USER_ROLES, type UserRole } from '../../src/domain/common/roles.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { TokenSigner } from '../../src/tokens/tokenSigner.ts';
import { silentLogger, tempDataDir } from '../helpers/env.ts';

/**
 * The control API on a real embedded PostgreSQL, without the media side (no mediasoup workers):
 * one per test file. The clock is settable so that rules about "today" can be tested on fixed
 * dates. Each user role gets a user and a bearer token minted through the real auth service.
 */
export interface ControlApiHarness {
  app: FastifyInstance;
  services: ControlServices;
  database: DatabaseHandle;
  signer: TokenSigner;
  dataDir: string;
  clock: { now: Date };
  routeTable: RouteEntry[];
  /** The change feed, when started with `changeFeed: true`. */
  changes: ChangeFeed | undefined;
  users: Record<UserRole, { id: string; token: string }>;
  /**
   * Injects a request as a role (or with an explicit token / no credentials). `body` is the parsed
   * JSON answer, typed loosely on purpose: tests assert on its shape with t.match/t.same.
   */
  call(method: InjectOptions['method'], url: string, options?: { as?: UserRole | 'nobody'; token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; text: string; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startControlApi(options: { now?: Date; logger?: Logger; loginRateLimit?: { max: number; windowMs: number }; auth?: Partial<AuthOptions>; changeFeed?: boolean } = {}): Promise<ControlApiHarness> {
  const tmp = await tempDataDir('tiepdan-api-');
  const logger = options.logger ?? silentLogger();
  const database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger });
  try {
    await migrateToLatest(database, logger);
    const signer = await TokenSigner.fromDataDir(tmp.dir);
    const clock = { now: options.now ?? new Date() };
    // Tests move the clock by months: user tokens live long here (expiry has its own tests).
    // changeFeed: as src/server.ts, the session list cache on (off by default: tests that write
    // behind the services' back, e.g. by SQL, then expect the list to show it at once).
    const changes = options.changeFeed === true ? await database.listen(SESSION_LIST_CHANNEL) : undefined;
    const services = new ControlServices({ db: database.db, signer, logger, dataDir: tmp.dir, clock: () => clock.now, auth: { tokenTtlSeconds: 3 * 365 * 86400, ...options.auth }, ...(changes ? { changes } : {}) });
    const app = Fastify({ loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger }) as unknown as FastifyInstance;
    installErrorHandling(app);
    const routeTable: RouteEntry[] = [];
    // As src/api/app.ts does: the one access hook on the root, then the control API.
    installAccessControl(app, { bearer: (token) => services.auth.authenticateBearer(token), apiKey: (key) => services.auth.authenticateApiKey(key), routeTable });
    // Printed links use the configured origin (L8), never the request's Host header.
    await app.register(controlApiPlugin, { services, dataDir: tmp.dir, publicOrigin: 'https://tiepdan.gialai.local', ...(options.loginRateLimit ? { loginRateLimit: options.loginRateLimit } : {}) });
    await app.ready();

    const system = { kind: 'system' as const, id: 'test', role: 'admin' as const, label: 'test-setup', bridgePointId: null };
    // The test commune operator runs a point of its own (not part of any session unless a test adds it).
    const operatorPoint = await services.bridgePoints.create(system, { code: 'OPERATOR-POINT', name: 'Điểm cầu của cán bộ xã (thử)', kind: 'commune', address: '', contactName: '', contactPhone: '', contactEmail: '', networkNotes: '', active: true });
    const users = {} as Record<UserRole, { id: string; token: string }>;
    for (const role of USER_ROLES) {
      const user = await services.auth.createUser(system, { username: `t-${role}`, displayName: `Test ${role}`, role, password: `password-${role}-123`, bridgePointId: role === 'commune_operator' ? operatorPoint.id : null });
      users[role] = { id: user.id, token: (await services.auth.mintToken(user.id, role)).token };
    }

    const harness: ControlApiHarness = {
      app,
      services,
      database,
      signer,
      dataDir: tmp.dir,
      clock,
      routeTable,
      changes,
      users,
      async call(method, url, o = {}) {
        const headers: Record<string, string> = { ...(o.headers ?? {}) };
        const token = o.token ?? (o.as !== undefined && o.as !== 'nobody' ? users[o.as].token : undefined);
        if (token !== undefined) headers.authorization = `Bearer ${token}`;
        const res = await app.inject({
          method,
          url,
          headers,
          ...(o.body !== undefined ? (typeof o.body === 'string' ? { payload: o.body } : { payload: o.body as Record<string, unknown> }) : {}),
        });
        let body: unknown = undefined;
        try {
          body = res.body === '' ? undefined : JSON.parse(res.body);
        } catch {
          body = undefined;
        }
        return { status: res.statusCode, body, text: res.body, headers: res.headers };
      },
      async close() {
        await app.close();
        await services.audit.close();
        await database.close();
        await tmp.remove();
      },
    };
    return harness;
  } catch (err) {
    await database.close();
    await tmp.remove();
    throw err;
  }
}
