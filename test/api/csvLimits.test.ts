/**
 * The bridge-point CSV import's bound (security review M13): at most 5,000 rows per file, refused
 * with 413 CSV_TOO_MANY_ROWS before anything is written (blank lines do not count, and do not
 * help to slip past it); a file at the limit imports in batches.
 */
import t from 'tap';
import { CSV_MAX_ROWS } from '../../src/domain/bridgePoints/bridgePointStore.ts';
import { startControlApi } from './harness.ts';

const csv = (n: number, sep = '\n') => ['code,name,kind', ...Array.from({ length: n }, (_, i) => `C${i},Điểm cầu ${i},commune`)].join(sep);

t.test('CSV import: row limit', async (t) => {
  const h = await startControlApi();
  t.teardown(() => h.close());
  const post = (body: string) => h.call('POST', '/api/v1/bridge-points/import', { as: 'technician', headers: { 'content-type': 'text/csv' }, body });
  const count = async () => (await h.call('GET', '/api/v1/bridge-points?limit=1', { as: 'technician' })).body.total as number;
  t.equal(CSV_MAX_ROWS, 5000);
  const before = await count();

  const over = await post(csv(CSV_MAX_ROWS + 1));
  t.same([over.status, over.body.code, over.body.details], [413, 'CSV_TOO_MANY_ROWS', { maxRows: 5000 }], '5,001 rows: 413 CSV_TOO_MANY_ROWS');
  t.equal((await post(csv(CSV_MAX_ROWS + 1, '\n\n'))).body.code, 'CSV_TOO_MANY_ROWS', 'blank lines between the rows change nothing');
  t.equal(await count(), before, 'nothing imported');

  const started = Date.now();
  const at = await post(csv(CSV_MAX_ROWS));
  t.same(at.body, { created: 5000, updated: 0, total: 5000 }, '5,000 rows import');
  t.comment(`5,000 rows in ${Date.now() - started} ms`);
  const again = await post(csv(CSV_MAX_ROWS).replace('Điểm cầu 7,', 'Điểm cầu bảy,'));
  t.same(again.body, { created: 0, updated: 5000, total: 5000 }, 'a re-import updates by code');
  t.equal((await h.call('GET', '/api/v1/bridge-points?q=c%E1%BA%A7u%20b%E1%BA%A3y', { as: 'technician' })).body.total, 1, 'with the new values');
  t.equal(await count(), before + 5000);
});
