import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TiepdanError } from '../../errors.ts';
import { ENV_FILE_NAME, renderServiceFiles, SERVICE_NAME } from './systemdUnit.ts';

export const SERVICE_USAGE = `  service-files --out <dir> [--user U] [--data-dir D] [--config-dir C] [--root R]
                                         write ${SERVICE_NAME}.service and ${ENV_FILE_NAME} (a template) into <dir>;
                                         ./scripts/setup.sh service installs them
`;

/** This installation: the directory above src/. */
export const INSTALL_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** `tiepdan service-files`: writes the unit and the configuration template (setup.sh installs them). */
export async function serviceCli(args: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { out: { type: 'string' }, user: { type: 'string' }, 'data-dir': { type: 'string' }, 'config-dir': { type: 'string' }, root: { type: 'string' } } }));
  } catch (err) {
    throw new TiepdanError('CLI_USAGE', `${(err as Error).message}\n${SERVICE_USAGE}`);
  }
  if (values.out === undefined) throw new TiepdanError('CLI_USAGE', `missing --out\n${SERVICE_USAGE}`);
  const files = renderServiceFiles({
    root: values.root ?? INSTALL_ROOT,
    ...(values.user !== undefined ? { user: values.user } : {}),
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    ...(values['config-dir'] !== undefined ? { configDir: values['config-dir'] } : {}),
  });
  const out = path.resolve(values.out);
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, `${SERVICE_NAME}.service`), files.unit, { mode: 0o644 });
  // The template is written next to the unit; setup.sh copies it to /etc/tiepdan only if none is there.
  const envTarget = path.join(out, ENV_FILE_NAME);
  if (!existsSync(envTarget)) await writeFile(envTarget, files.envFile, { mode: 0o640 });
  process.stdout.write(`${path.join(out, `${SERVICE_NAME}.service`)}\n${envTarget}\n`);
}
