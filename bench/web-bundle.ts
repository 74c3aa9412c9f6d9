/**
 * Size of each browser page's bundle (what a commune PC downloads on a slow link), raw and gzip,
 * and how long esbuild takes to build them all (paid once, on the first page request).
 */
import { buildWebBundle, WEB_APPS } from '../src/api/web/bundler.ts';

const first = await buildWebBundle();
const again = await buildWebBundle();
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
console.log('page        JS raw      JS gzip     CSS gzip    total gzip');
for (const app of WEB_APPS) {
  const js = first.assets.get(`${app}.js`)!;
  const css = first.assets.get(`${app}.css`);
  const total = js.gzip.length + (css?.gzip.length ?? 0);
  console.log(`${app.padEnd(11)} ${kb(js.body.length).padEnd(11)} ${kb(js.gzip.length).padEnd(11)} ${kb(css?.gzip.length ?? 0).padEnd(11)} ${kb(total)}`);
}
console.log(`build time (all pages): first ${first.builtInMs} ms, again ${again.builtInMs} ms`);
