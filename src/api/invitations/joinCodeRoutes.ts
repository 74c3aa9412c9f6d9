import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LoginRateLimiter } from '../../domain/auth/loginRateLimiter.ts';
import type { ControlServices } from '../../domain/controlServices.ts';
import { escapeHtml } from '../../domain/invitations/printableInvitation.ts';
import { JOIN_CODE_LENGTH, normaliseJoinCode } from '../../domain/invitations/joinCode.ts';
import { TiepdanError } from '../../errors.ts';
import { httpStatusOf } from '../errors.ts';

export interface JoinCodeRouteOptions {
  services: ControlServices;
  /** Wrong codes per client address per window before 429 (default 20 per 15 minutes). */
  guessLimit?: { max: number; windowMs: number };
}

/** What the person sees, in Vietnamese: these pages are for commune staff reading a paper. */
const MESSAGES: Record<string, string> = {
  JOIN_CODE_MALFORMED: `Mã vào buổi tiếp gồm ${JOIN_CODE_LENGTH} ký tự (chữ in hoa và chữ số; không có số 0, 1 và chữ O, I). Vui lòng đối chiếu lại với giấy mời.`,
  JOIN_CODE_UNKNOWN: 'Mã không đúng. Vui lòng đối chiếu lại mã in trên giấy mời.',
  JOIN_CODE_REVOKED: 'Giấy mời này đã bị thu hồi hoặc đã được cấp lại. Vui lòng liên hệ Ban Tiếp công dân tỉnh để nhận giấy mời mới.',
  JOIN_CODE_EXPIRED: 'Giấy mời này đã hết hạn.',
  JOIN_CODE_RATE_LIMITED: 'Nhập sai quá nhiều lần từ máy này. Vui lòng thử lại sau {minutes} phút.',
};

const codeParams = z.object({ code: z.string().max(40) });
const formBody = z.object({ code: z.string().max(40).default(''), dest: z.enum(['join', 'test']).default('join') });

/** The code is a credential: request logs show the route, never the path or the form. */
const redactedRequestLog = {
  req: (req: FastifyRequest) => ({ method: req.method, url: req.routeOptions.url ?? '/m', remoteAddress: req.ip }),
};

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // No script at all: the form posts to itself and the answer is a redirect.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
} as const;

function page(typed: string, error: string | undefined): string {
  const e = escapeHtml;
  return `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Nhập mã vào buổi tiếp – Tiếp công dân trực tuyến</title>
<style>
  body { font-family: system-ui, "Segoe UI", "DejaVu Sans", sans-serif; margin: 0; background: #f4f6f8; color: #1a1a1a; }
  main { max-width: 30rem; margin: 3rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 6px; box-shadow: 0 1px 4px #0002; }
  h1 { font-size: 1.35rem; margin-top: 0; }
  label { display: block; font-weight: 600; margin: 1rem 0 .4rem; }
  input { font: 1.6rem/1.2 "DejaVu Sans Mono", monospace; letter-spacing: .15rem; width: 100%; box-sizing: border-box; padding: .4rem .6rem; text-transform: uppercase; }
  .buttons { display: flex; gap: .75rem; margin-top: 1rem; flex-wrap: wrap; }
  button { font-size: 1rem; padding: .55rem 1.1rem; border-radius: 4px; border: 1px solid #1f4e8c; background: #1f4e8c; color: #fff; cursor: pointer; }
  button.secondary { background: #fff; color: #1f4e8c; }
  .error { color: #a30000; background: #fdecec; padding: .6rem .8rem; border-radius: 4px; }
  .hint { color: #555; font-size: .9rem; }
</style>
</head>
<body>
<main>
<h1>Vào buổi tiếp công dân trực tuyến</h1>
${error ? `<p class="error" role="alert" id="join-code-error">${e(error)}</p>` : ''}
<form method="post" action="/m" id="join-code-form">
  <label for="join-code-input">Mã vào buổi tiếp (in trên giấy mời, cạnh mã QR)</label>
  <input id="join-code-input" name="code" value="${e(typed)}" maxlength="20" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus placeholder="ABCDE-FGHJK">
  <div class="buttons">
    <button type="submit" name="dest" value="join" id="join-code-join">Vào buổi tiếp</button>
    <button type="submit" name="dest" value="test" class="secondary" id="join-code-test">Kiểm thử kết nối</button>
  </div>
</form>
<p class="hint">Mã chỉ dùng cho điểm cầu được mời và hết hạn cùng giấy mời. Không chia sẻ mã cho người khác.</p>
</main>
</body>
</html>
`;
}

/**
 * The page behind the giấy mời's QR code and typed code (issue 11 item 10): /m/<code> (the QR
 * code) and /m with a code box exchange a join code for the invitation's token and send the
 * browser on to /join#token=… (or /test#token=… for the connection test): the token travels in the
 * fragment, which never reaches a server or a proxy log. Wrong codes are counted per address;
 * past `guessLimit` every attempt from it is 429 JOIN_CODE_RATE_LIMITED until the window ends,
 * so 50-bit codes cannot be found by trying. Exchanges are audited (invitationService).
 */
export const joinCodeRoutes: FastifyPluginAsync<JoinCodeRouteOptions> = async (app, { services, guessLimit }) => {
  const wrong = new LoginRateLimiter(services.liveStore, 'join-code', guessLimit?.max ?? 20, guessLimit?.windowMs ?? 15 * 60_000);

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });

  const exchange = async (request: FastifyRequest, reply: FastifyReply, typed: string, dest: 'join' | 'test') => {
    try {
      const wait = await wrong.waitFor(request.ip);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        request.log.warn({ remoteAddress: request.ip }, 'join code guesses rate limited');
        throw new TiepdanError('JOIN_CODE_RATE_LIMITED', `too many wrong join codes; wait ${wait} s`, { details: { retryAfterSeconds: wait } });
      }
      const code = normaliseJoinCode(typed);
      if (code === undefined) throw new TiepdanError('JOIN_CODE_MALFORMED', 'a join code is 10 characters of the printed alphabet');
      const { token } = await services.invitations.redeemJoinCode(code, { address: request.ip });
      return reply.headers(PAGE_HEADERS).redirect(`/${dest}#token=${encodeURIComponent(token)}`, 303);
    } catch (err) {
      if (!(err instanceof TiepdanError) || MESSAGES[err.code] === undefined) throw err;
      if (err.code === 'JOIN_CODE_MALFORMED' || err.code === 'JOIN_CODE_UNKNOWN') await wrong.hit(request.ip);
      const minutes = Math.max(1, Math.ceil(Number(reply.getHeader('retry-after') ?? 60) / 60));
      return reply
        .status(httpStatusOf(err.code))
        .headers({ ...PAGE_HEADERS, 'x-error-code': err.code })
        .send(page(typed.slice(0, 40), MESSAGES[err.code]!.replace('{minutes}', String(minutes))));
    }
  };

  app.get('/m', { schema: { hide: true } }, async (_request, reply) => reply.headers(PAGE_HEADERS).send(page('', undefined)));
  app.get('/m/:code', { logSerializers: redactedRequestLog, schema: { hide: true } }, async (request, reply) => exchange(request, reply, codeParams.parse(request.params).code, 'join'));
  app.get('/m/:code/kiem-thu', { logSerializers: redactedRequestLog, schema: { hide: true } }, async (request, reply) => exchange(request, reply, codeParams.parse(request.params).code, 'test'));
  app.post('/m', { logSerializers: redactedRequestLog, schema: { hide: true } }, async (request, reply) => {
    const parsed = formBody.safeParse(request.body ?? {});
    if (!parsed.success) return reply.status(400).headers(PAGE_HEADERS).send(page('', MESSAGES.JOIN_CODE_MALFORMED));
    return exchange(request, reply, parsed.data.code, parsed.data.dest);
  });
};
