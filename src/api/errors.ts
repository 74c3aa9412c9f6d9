import type { FastifyError, FastifyInstance } from 'fastify';
import { TiepdanError } from '../errors.ts';

/** Body of every error answer: a stable code for programs, a message for people. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

/** Maps errors to `{ code, message }` with the right status; never leaks stack traces. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | TiepdanError | Error, request, reply) => {
    if (error instanceof TiepdanError) {
      if (error.status >= 500) request.log.error({ err: error }, 'request failed');
      const body: ErrorBody = { code: error.code, message: error.message };
      if (error.details !== undefined) body.details = error.details;
      return reply.status(error.status).send(body);
    }
    const fe = error as FastifyError;
    if (fe.validation !== undefined) {
      return reply.status(400).send({
        code: 'VALIDATION_FAILED',
        message: fe.message,
        // Works for ajv (JSON schema) and fastify-type-provider-zod errors alike: `in` says which
        // part of the request (body, querystring, params, headers), `field` the JSON pointer in it.
        details: fe.validation.map((v) => ({ in: fe.validationContext ?? 'body', field: v.instancePath || v.params?.missingProperty || '', message: v.message })),
      } satisfies ErrorBody);
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({ code: fe.code ?? 'BAD_REQUEST', message: fe.message } satisfies ErrorBody);
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ code: 'INTERNAL', message: 'internal server error' } satisfies ErrorBody);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` } satisfies ErrorBody),
  );
}
