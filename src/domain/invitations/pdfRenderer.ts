import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TiepdanError } from '../../errors.ts';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/**
 * Prints our own HTML to PDF with the machine's headless Chromium (Debian's `chromium` package;
 * no network, no download): the same engine the browser apps are tested with. One print at a
 * time — a print takes well under a second. Without Chromium, PDF_UNAVAILABLE (the HTML page
 * prints from any browser).
 */
export class PdfRenderer {
  readonly binary: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(binary: string | undefined = CANDIDATES.find((c) => existsSync(c))) {
    this.binary = binary;
  }

  get available(): boolean {
    return this.binary !== undefined;
  }

  render(html: string, timeoutMs = 30_000): Promise<Buffer> {
    const run = this.#queue.then(() => this.#render(html, timeoutMs));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #render(html: string, timeoutMs: number): Promise<Buffer> {
    const binary = this.binary;
    if (binary === undefined) throw new TiepdanError('PDF_UNAVAILABLE', 'PDF needs Chromium on the server (apt-get install chromium); print the HTML page instead', { status: 503 });
    const dir = await mkdtemp(path.join(tmpdir(), 'tiepdan-pdf-'));
    try {
      const input = path.join(dir, 'invitation.html');
      const output = path.join(dir, 'invitation.pdf');
      await writeFile(input, html, { mode: 0o600 });
      await new Promise<void>((resolve, reject) => {
        execFile(
          binary,
          [
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
          ],
          { timeout: timeoutMs, env: { ...process.env, HOME: dir } },
          (err) => (err ? reject(err) : resolve()),
        );
      });
      const pdf = await readFile(output);
      if (pdf.subarray(0, 5).toString() !== '%PDF-') throw new Error('Chromium wrote no PDF');
      return pdf;
    } catch (err) {
      if (err instanceof TiepdanError) throw err;
      throw new TiepdanError('PDF_FAILED', `printing to PDF failed: ${(err as Error).message.split('\n')[0]}`, { status: 500, cause: err });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
