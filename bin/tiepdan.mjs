#!/usr/bin/env node
// Entry point: checks the runtime first (in plain JavaScript, so an old Node.js gets a clear
// message instead of a syntax error), then loads the TypeScript sources, which Node.js >= 22.18
// runs directly by stripping types (no loader, no build step; `npm run typecheck` runs tsc).
import { assertSupportedRuntime } from '../src/runtime/nodeVersion.mjs';

assertSupportedRuntime();
const { runCli } = await import('../src/cli.ts');
await runCli(process.argv.slice(2));
