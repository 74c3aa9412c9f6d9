/**
 * The PDF queue's bounds (security review M13), with a stand-in for Chromium that takes the same
 * arguments and writes a PDF: one print at a time and niced, the same page printed once for
 * everyone who asks, at most `maxQueued` distinct prints waiting (503 PDF_BUSY), and a print
 * whose requesters all went away dropped from the queue, or its process killed.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { JOB_NICENESS } from '../../src/domain/common/nice.ts';
import { PdfRenderer } from '../../src/domain/invitations/pdfRenderer.ts';
import { HTTP_STATUS } from '../../src/api/errors.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('PDF printing is bounded, de-duplicated and abandoned with its client', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tiepdan-pdf-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'runs.log');
  const niceFile = path.join(dir, 'nice');
  const chromium = path.join(dir, 'chromium');
  // A page containing "slow" takes 3 s to print; every run logs its pid and the page's title.
  await writeFile(
    chromium,
    `#!/bin/sh
for a in "$@"; do case "$a" in --print-to-pdf=*) out="\${a#--print-to-pdf=}";; file://*) in="\${a#file://}";; esac; done
echo "$$ $(sed -n 's/.*<title>\\(.*\\)<\\/title>.*/\\1/p' "$in")" >> "${log}"
nice > "${niceFile}"
if grep -q slow "$in"; then sleep 3; fi
printf '%%PDF-1.4 %s\\n' "$(cat "$in" | wc -c)" > "$out"
`,
  );
  await chmod(chromium, 0o755);
  const page = (title: string) => `<html><head><title>${title}</title></head><body>${title}</body></html>`;
  const runs = async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => ({ pid: Number(l.split(' ')[0]), title: l.split(' ').slice(1).join(' ') }));
  const until = async (what: string, f: () => Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await f()); i++) await sleep(25);
    if (!(await f())) throw new Error(`timed out: ${what}`);
  };

  await t.test('the same page is printed once for everyone who asks', async (t) => {
    const r = new PdfRenderer({ binary: chromium });
    const [a, b, c] = await Promise.all([r.render(page('A')), r.render(page('A')), r.render(page('A'))]);
    t.equal(r.runs, 1, 'one Chromium run');
    t.ok(a.subarray(0, 5).toString() === '%PDF-' && a.equals(b) && a.equals(c), 'everyone gets the PDF');
    t.equal((await readFile(niceFile, 'utf8')).trim(), String(Math.min(19, getPriority() + JOB_NICENESS)), 'Chromium runs niced');
  });

  await t.test('at most maxQueued distinct prints wait', async (t) => {
    const r = new PdfRenderer({ binary: chromium, maxQueued: 2 });
    const running = r.render(page('slow B'));
    await until('B running', async () => (await runs()).some((x) => x.title === 'slow B'));
    const c = r.render(page('C'));
    const d = r.render(page('D'));
    t.equal(r.queued, 2);
    await t.rejects(r.render(page('E')), { code: 'PDF_BUSY' }, 'a third distinct print waiting: PDF_BUSY');
    t.equal(HTTP_STATUS.PDF_BUSY, 503, 'which the API answers with 503');
    const c2 = r.render(page('C'));
    t.equal(r.queued, 2, 'asking again for a waiting page joins it, even when the queue is full');
    await Promise.all([running, c, d, c2]);
    t.equal(r.runs, 3, 'B, C and D printed once each');
  });

  await t.test('a print whose client went away is dropped, or killed', async (t) => {
    const r = new PdfRenderer({ binary: chromium });
    const first = new AbortController();
    const slow = r.render(page('slow F'), { signal: first.signal });
    await until('F running', async () => (await runs()).some((x) => x.title === 'slow F'));
    const waiting = new AbortController();
    const g = r.render(page('G'), { signal: waiting.signal });
    const h = r.render(page('H'));
    waiting.abort();
    await t.rejects(g, { code: 'PDF_ABANDONED' }, 'the waiting client that left gets no PDF');
    t.equal(r.queued, 1, 'and its print left the queue');
    const started = Date.now();
    first.abort();
    await t.rejects(slow, { code: 'PDF_ABANDONED' });
    const pid = (await runs()).find((x) => x.title === 'slow F')!.pid;
    await until('F killed', async () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    t.pass('the running Chromium was killed');
    await h;
    t.ok(Date.now() - started < 2500, 'the next print did not wait for the abandoned one');
    t.notOk((await runs()).some((x) => x.title === 'G'), 'G was never printed');
    t.equal(r.runs, 2, 'F (killed) and H');
    await t.rejects(r.render(page('I'), { signal: AbortSignal.abort() }), { code: 'PDF_ABANDONED' }, 'a client already gone queues nothing');
    t.equal(r.runs, 2);
  });

  await t.test('without Chromium: PDF_UNAVAILABLE, nothing queued', async (t) => {
    const r = new PdfRenderer({ binary: undefined });
    await t.rejects(r.render(page('J')), { code: 'PDF_UNAVAILABLE' });
    t.equal(HTTP_STATUS.PDF_UNAVAILABLE, 503, 'which the API answers with 503');
    t.equal(r.queued, 0);
  });
});
