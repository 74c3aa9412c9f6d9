/**
 * The import rule (issue 12 item 5): docs/architecture.md draws the layers and says which way
 * dependencies point; this test reads every import in src/ and fails on one that points the other
 * way, so the picture cannot drift from the code again (the structure review found eleven).
 *
 * A folder of src/ is a unit; `LAYERS` says which units each may import. Test code (`*.test.ts`
 * and `testing/` folders) is not a layer: a test beside its code may start the whole server
 * (the composition root) and use the test helpers, so it is held only to the browser rule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';

const SRC = dirname(fileURLToPath(import.meta.url));

/**
 * Who may import whom, bottom to top. `root` is the three files at src/ (errors.ts is
 * foundation; main.ts, cli.ts and server.ts are the composition root, handled below).
 */
const FOUNDATION = ['contract', 'errors', 'config', 'logging'] as const;
const LAYERS: Record<string, readonly string[]> = {
  // Shared by server and browser: nothing of the server, no Node.js.
  contract: [],
  errors: ['contract'],
  config: ['contract', 'errors'],
  logging: ['contract', 'errors', 'config'],
  tokens: [...FOUNDATION],
  tls: [...FOUNDATION],
  db: [...FOUNDATION],
  store: [...FOUNDATION, 'db'],
  // Media plane: mediasoup workers and routers, know nothing of sessions, HTTP or sockets.
  sfu: [...FOUNDATION],
  turn: [...FOUNDATION, 'tls', 'sfu'],
  // The rules of the control plane (sessions, cases, the law's process) and the evidence log.
  domain: [...FOUNDATION, 'tokens', 'db', 'store'],
  // Recording writes evidence, so it may use the audit log and actors of the domain.
  recording: [...FOUNDATION, 'db', 'store', 'sfu', 'domain'],
  // The live core: admission, rooms, peers, subscriptions, the recording policy.
  live: [...FOUNDATION, 'tokens', 'db', 'store', 'sfu', 'recording', 'domain', 'turn'],
  // The WebSocket protocol on top of the live core.
  // (liveSessions.ts builds the rooms on the worker pool: a step down past live, not up.)
  signaling: [...FOUNDATION, 'tokens', 'db', 'store', 'live', 'domain', 'turn', 'sfu'],
  // HTTP: control API, pages, health, recordings.
  // (health and the pre-flight loopback read the worker pool: a step down, not up.)
  api: [...FOUNDATION, 'tokens', 'tls', 'db', 'store', 'domain', 'recording', 'live', 'signaling', 'ops', 'sfu'],
  // Operations: back-up, metrics, service files, upgrades; they read every layer below the API.
  ops: [...FOUNDATION, 'tokens', 'tls', 'db', 'store', 'domain', 'recording', 'sfu', 'live'],
  // The browser: only the contract and itself.
  web: ['contract'],
};
/** The composition root may import anything. */
const COMPOSITION_ROOT = new Set(['main.ts', 'cli.ts', 'server.ts', 'liveWiring.ts']);

function unitOf(file: string): string {
  const rel = relative(SRC, file);
  if (!rel.includes(sep)) return rel === 'errors.ts' ? 'errors' : `root:${rel}`;
  return rel.split(sep)[0]!;
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

interface Violation {
  file: string;
  imports: string;
  rule: string;
}

function violations(): { checked: number; found: Violation[] } {
  const found: Violation[] = [];
  let checked = 0;
  for (const file of sourceFiles(SRC)) {
    const from = unitOf(file);
    const rel = relative(SRC, file);
    const isTestCode = file.endsWith('.test.ts') || rel.split(sep).includes('testing');
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: spec } of info.importedFiles) {
      checked++;
      if (from === 'contract' || from === 'web') {
        if (spec.startsWith('node:')) found.push({ file: rel, imports: spec, rule: `${from} runs in the browser: no Node.js modules` });
      }
      if (!spec.startsWith('.') || isTestCode) continue;
      const target = resolve(dirname(file), spec);
      const targetRel = relative(SRC, target);
      if (targetRel.startsWith('..')) {
        found.push({ file: rel, imports: spec, rule: 'src/ may not import from outside src/' });
        continue;
      }
      const to = unitOf(target);
      if (to === from) continue;
      if (from.startsWith('root:') && COMPOSITION_ROOT.has(from.slice(5))) continue;
      const allowed = LAYERS[from];
      if (allowed === undefined) {
        found.push({ file: rel, imports: spec, rule: `unit "${from}" is not in the layer table (add it to LAYERS and docs/architecture.md)` });
        continue;
      }
      if (to.startsWith('root:')) {
        found.push({ file: rel, imports: spec, rule: `only the composition root imports ${to.slice(5)}` });
        continue;
      }
      if (!allowed.includes(to)) found.push({ file: rel, imports: spec, rule: `${from} may not import ${to}` });
    }
  }
  return { checked, found };
}

t.test('every import in src/ points the documented way', async (t) => {
  const { checked, found } = violations();
  t.ok(checked > 500, `read the imports of src/ (${checked})`);
  t.same(
    found.map((v) => `${v.file} -> ${v.imports}: ${v.rule}`),
    [],
    'no import against the layer table (docs/architecture.md, "Layers")',
  );
});

t.test('the layer table has no cycle', async (t) => {
  // A cycle would make "points downwards" meaningless: walk each unit's closure.
  const cycles: string[] = [];
  for (const unit of Object.keys(LAYERS)) {
    const seen = new Set<string>();
    const stack = [...(LAYERS[unit] ?? [])];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (next === unit) {
        cycles.push(unit);
        break;
      }
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(LAYERS[next] ?? []));
    }
  }
  t.same(cycles, [], 'no unit reaches itself through the table');
});
