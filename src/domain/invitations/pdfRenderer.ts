import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TiepdanError } from '../../errors.ts';
import { niced } from '../common/nice.ts';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export interface PdfRendererOptions {
  /** Chromium; default: the first of the usual Debian paths that exists. */
  binary?: string | undefined;
  /** Distinct prints that may wait behind the running one; one more is 503 PDF_BUSY. */
  maxQueued?: number;
}

export interface RenderOptions {
  timeoutMs?: number;
  /** The caller went away (the HTTP client disconnected): stop waiting, and drop the print if no one else waits for it. */
  signal?: AbortSignal;
}

/** One print: everyone who asks for the same page waits on it. */
interface Print {
  key: string;
  html: string;
  timeoutMs: number;
  waiters: number;
  running: boolean;
  controller: AbortController;
  result: Promise<Buffer>;
  settle: { resolve(pdf: Buffer): void; reject(err: unknown): void };
}

const abandoned = () => new TiepdanError('PDF_ABANDONED', 'the client went away before the PDF was printed');

/**
 * Prints our own HTML to PDF with the machine's headless Chromium (Debian's `chromium` package;
 * no network, no download): the same engine the browser apps are tested with. Without Chromium,
 * PDF_UNAVAILABLE (the HTML page prints from any browser).
 *
 * Bounded (security review M13): one Chromium at a time, niced; the same page asked for while it
 * waits or prints is printed once for everyone; at most `maxQueued` distinct prints wait (then
 * 503 PDF_BUSY); a print whose every requester went away is dropped from the queue, or killed.
 */
export class PdfRenderer {
  readonly binary: string | undefined;
  readonly maxQueued: number;
  readonly #prints = new Map<string, Print>();
  readonly #queue: Print[] = [];
  #busy = false;
  /** Chromium runs started (tests check that duplicates and abandoned prints start none). */
  runs = 0;

  constructor(options: PdfRendererOptions | string | undefined = {}) {
    const o = typeof options === 'string' || options === undefined ? { binary: options } : options;
    this.binary = 'binary' in o ? o.binary : CANDIDATES.find((c) => existsSync(c));
    this.maxQueued = o.maxQueued ?? 8;
  }

  get available(): boolean {
    return this.binary !== undefined;
  }

  /** Prints waiting (not counting the one printing). */
  get queued(): number {
    return this.#queue.length;
  }

  render(html: string, options: RenderOptions | number = {}): Promise<Buffer> {
    const o = typeof options === 'number' ? { timeoutMs: options } : options;
    if (this.binary === undefined) return Promise.reject(new TiepdanError('PDF_UNAVAILABLE', 'PDF needs Chromium on the server (apt-get install chromium); print the HTML page instead'));
    if (o.signal?.aborted) return Promise.reject(abandoned());
    const key = createHash('sha256').update(html).digest('hex');
    let print = this.#prints.get(key);
    if (print === undefined) {
      if (this.#queue.length >= this.maxQueued) {
        return Promise.reject(new TiepdanError('PDF_BUSY', `${this.#queue.length} PDFs are waiting to be printed; try again in a moment`));
      }
      print = this.#newPrint(key, html, o.timeoutMs ?? 30_000);
      this.#prints.set(key, print);
      this.#queue.push(print);
      this.#pump();
    }
    return this.#wait(print, o.signal);
  }

  #newPrint(key: string, html: string, timeoutMs: number): Print {
    let settle!: Print['settle'];
    const result = new Promise<Buffer>((resolve, reject) => (settle = { resolve, reject }));
    // No waiter may be left when it fails; the catch keeps an unawaited rejection quiet.
    result.catch(() => undefined);
    return { key, html, timeoutMs, waiters: 0, running: false, controller: new AbortController(), result, settle };
  }

  #wait(print: Print, signal: AbortSignal | undefined): Promise<Buffer> {
    print.waiters++;
    if (signal === undefined) return print.result;
    return new Promise<Buffer>((resolve, reject) => {
      const onAbort = () => {
        reject(abandoned());
        this.#leave(print);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      print.result.then(
        (pdf) => {
          signal.removeEventListener('abort', onAbort);
          resolve(pdf);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  #leave(print: Print): void {
    print.waiters--;
    if (print.waiters > 0) return;
    this.#prints.delete(print.key);
    if (print.running) print.controller.abort();
    else {
      const i = this.#queue.indexOf(print);
      if (i >= 0) this.#queue.splice(i, 1);
      print.settle.reject(abandoned());
    }
  }

  #pump(): void {
    if (this.#busy) return;
    const next = this.#queue.shift();
    if (next === undefined) return;
    this.#busy = true;
    next.running = true;
    this.runs++;
    void this.#render(next.html, next.timeoutMs, next.controller.signal)
      .then(next.settle.resolve, next.settle.reject)
      .finally(() => {
        if (this.#prints.get(next.key) === next) this.#prints.delete(next.key);
        this.#busy = false;
        this.#pump();
      });
  }

  async #render(html: string, timeoutMs: number, signal: AbortSignal): Promise<Buffer> {
    const binary = this.binary!;
    const dir = await mkdtemp(path.join(tmpdir(), 'tiepdan-pdf-'));
    try {
      const input = path.join(dir, 'invitation.html');
      const output = path.join(dir, 'invitation.pdf');
      await writeFile(input, html, { mode: 0o600 });
      await new Promise<void>((resolve, reject) => {
        execFile(
          ...niced(binary, [
            '--headless',
            // The page is our own escaped HTML; Chromium's sandbox cannot run as root.
            '--no-sandbox',
            '--disable-gpu',
            '--disable-extensions',
            '--disable-background-networking',
            '--no-first-run',
            '--no-pdf-header-footer',
            `--user-data-dir=${path.join(dir, 'profile')}`,
            `--print-to-pdf=${output}`,
            `file://${input}`,
          ]),
          { timeout: timeoutMs, signal, env: { ...process.env, HOME: dir } },
          (err) => (err ? reject(err) : resolve()),
        );
      });
      const pdf = await readFile(output);
      if (pdf.subarray(0, 5).toString() !== '%PDF-') throw new Error('Chromium wrote no PDF');
      return pdf;
    } catch (err) {
      if (err instanceof TiepdanError) throw err;
      if (signal.aborted) throw abandoned();
      throw new TiepdanError('PDF_FAILED', `printing to PDF failed: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
