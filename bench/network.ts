/**
 * `npm run bench network`: the network-conditions scenarios (test/network/scenarios.ts) with one
 * row each: connected, time to the first central frame, decoded fps both ways, longest freeze,
 * audio concealed % both ways, and the ICE path the commune's browser selected. Commune browsers
 * run in network namespaces with shaped/lossy links (tc tbf, iptables statistic), so this needs
 * root. `-- --only loss-10,down-250` runs some scenarios only.
 */
import { unavailableReason } from '../test/network/netLab.ts';
import { SCENARIOS, openSuite, pathDescription, resultLine, type ScenarioResult } from '../test/network/scenarios.ts';

const why = unavailableReason();
if (why !== undefined) {
  console.log(`network scenarios skipped: ${why}`);
  process.exit(0);
}

const onlyAt = process.argv.indexOf('--only');
const only = onlyAt === -1 ? undefined : (process.argv[onlyAt + 1] ?? '').split(',').filter(Boolean);
const scenarios = SCENARIOS.filter((s) => only === undefined || only.includes(s.id));

const f = (n: number | undefined, digits = 0): string => (n === undefined ? '–' : n.toFixed(digits));
const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;

const started = Date.now();
const suite = await openSuite(scenarios);
const results: ScenarioResult[] = [];
try {
  for (const scenario of scenarios) {
    const r = await suite.run(scenario);
    results.push(r);
    process.stderr.write(`${resultLine(r)}\n`);
  }
} finally {
  await suite.close();
}

console.log(row(['scenario', 'browser', 'connected', 'first frame ms (click / open)', 'fps c→x / x→c', 'longest freeze ms c→x / x→c', 'audio concealed % at x / at c', 'video kbps c→x / x→c', 'path (commune recv)', 'load', 'wall s']));
console.log(row(Array(11).fill('---')));
for (const r of results) {
  const cx = r.communeReceives;
  const xc = r.centralReceives;
  console.log(
    row([
      r.id,
      r.browser,
      r.connected ? 'yes' : `no${r.error ? ` (${r.error.slice(0, 60)})` : ''}`,
      `${f(r.firstFrameFromClickMs)} / ${f(r.firstFrameFromOpenMs)}`,
      `${f(cx?.video?.fps, 1)} / ${f(xc?.video?.fps, 1)}`,
      `${f(cx?.video?.longestGapMs)} / ${f(xc?.video?.longestGapMs)}`,
      `${f(cx?.audio?.concealedPct, 2)} / ${f(xc?.audio?.concealedPct, 2)}`,
      `${f(cx?.video?.kbps)} / ${f(xc?.video?.kbps)}`,
      pathDescription(r.paths.find((p) => p.direction === 'recv')),
      f(r.load, 1),
      f(r.wallMs / 1000, 0),
    ]),
  );
}
const extras = results.filter((r) => Object.keys(r.extras).length > 0);
for (const r of extras) console.log(`${r.id}: ${JSON.stringify(r.extras)}`);
console.log(`c = central point (root namespace), x = commune (its own namespace); load = 1-minute load average at the window's end (2 cores: above ~4 the browsers are starved and the figures say more about the machine than the link); total ${((Date.now() - started) / 1000).toFixed(0)} s`);
