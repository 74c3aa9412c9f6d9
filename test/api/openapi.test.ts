import { Validator } from '@seriousme/openapi-schema-validator';
import t from 'tap';
import { startControlApi } from './harness.ts';

t.test('/openapi.json is a valid OpenAPI 3.1 document covering every route; /docs browses it offline', async (t) => {
  const h = await startControlApi();
  t.teardown(() => h.close());
  const r = await h.call('GET', '/openapi.json');
  t.equal(r.status, 200);
  const doc = r.body;
  t.equal(doc.openapi, '3.1.0');

  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  t.ok(result.valid, `valid against the OpenAPI 3.1 schema ${result.valid ? '' : JSON.stringify(result.errors).slice(0, 2000)}`);

  // The API's routes (the table also lists the public /openapi.json and /docs pages, not documented).
  const apiRoutes = h.routeTable.filter((r) => r.url.startsWith('/api/'));
  const documented = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
  }
  t.ok(apiRoutes.length >= 50);
  for (const route of apiRoutes) {
    const path = route.url.replace(/:(\w+)/g, '{$1}');
    const key = `${route.method} ${path}`;
    t.ok(documented.has(key), `${key} is documented`);
    const op = doc.paths[path]?.[route.method.toLowerCase()];
    if (op === undefined) continue;
    t.ok(typeof op.summary === 'string' && op.summary.length > 5, `${key} has a summary`);
    const success = Object.keys(op.responses ?? {}).filter((s) => s.startsWith('2'));
    t.ok(success.length > 0, `${key} documents its success answer`);
    if (route.access.roles !== 'public') {
      for (const code of ['401', '403']) t.ok(op.responses[code] !== undefined, `${key} documents ${code}`);
    }
    if (['POST', 'PUT', 'PATCH'].includes(route.method) && op.requestBody !== undefined) {
      t.ok(Object.keys(op.requestBody.content ?? {}).length > 0, `${key} documents its body`);
    }
    for (const p of route.url.match(/:(\w+)/g) ?? []) {
      t.ok((op.parameters ?? []).some((x: { in: string; name: string }) => x.in === 'path' && x.name === p.slice(1)), `${key} documents path parameter ${p}`);
    }
  }
  t.equal(documented.size, apiRoutes.length, 'nothing documented that is not a route');

  t.same(doc.paths['/api/v1/auth/login'].post.security, [], 'login needs no credentials');
  t.same(doc.security, [{ bearer: [] }, { apiKey: [] }], 'everything else takes a bearer token or an API key');
  // Query parameters come from the zod schemas too (pagination and filters).
  const list = doc.paths['/api/v1/sessions'].get;
  t.same(list.parameters.filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name).sort(), ['bridgePointId', 'from', 'limit', 'offset', 'status', 'to']);

  const docs = await h.app.inject({ method: 'GET', url: '/docs/' });
  t.equal(docs.statusCode, 200);
  t.match(docs.body, /swagger-ui/i);
  const css = await h.app.inject({ method: 'GET', url: '/docs/static/swagger-ui.css' });
  t.equal(css.statusCode, 200, 'the UI serves its own assets (works offline)');
  const json = await h.app.inject({ method: 'GET', url: '/docs/json' });
  t.equal(json.statusCode, 200);
});
