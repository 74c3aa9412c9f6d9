// Plain JavaScript on purpose: this check must run, and print its message, on the old Node.js
// versions it rejects, which cannot load TypeScript sources.

/** The lowest Node.js major version tiepdan supports (Node 20 reached end of life in April 2026). */
export const MIN_NODE_MAJOR = 22;

/** Checks a Node.js version string such as "24.21.0" or "v20.20.2". */
export function checkNodeVersion(version) {
  const major = Number.parseInt(String(version).replace(/^v/, '').split('.')[0] ?? '', 10);
  if (!Number.isFinite(major) || major < MIN_NODE_MAJOR) {
    return {
      ok: false,
      message:
        `tiepdan needs Node.js ${MIN_NODE_MAJOR} or newer (Node 24 LTS recommended); this is Node.js ${version}. ` +
        'Run ./scripts/setup.sh, which installs Node 24 from the npm registry into node_modules/.bin/node, ' +
        'and start tiepdan with "npm start" so that this Node.js is used.',
    };
  }
  return { ok: true, message: `Node.js ${version}` };
}

/** Exits with a clear message (exit code 78, EX_CONFIG) when the running Node.js is unsupported. */
export function assertSupportedRuntime() {
  const check = checkNodeVersion(process.versions.node);
  if (!check.ok) {
    process.stderr.write(`${check.message}\n`);
    process.exit(78);
  }
}
