#!/usr/bin/env node
// The `vnic` command. Installed from the package (no src/ in it), it runs the compiled
// ../dist/main.js with plain node. In the vnic workspace, whose packages export their TypeScript
// sources, it runs ../src/main.ts through tsx (a devDependency), the way `pnpm vnic` does.
import { existsSync } from 'node:fs';

const sources = new URL('../src/main.ts', import.meta.url);
let tsx;
if (existsSync(sources)) {
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    // no tsx: fall through to dist/
  }
}
if (tsx !== undefined) {
  tsx.register();
  await import(sources.href);
} else {
  const built = new URL('../dist/main.js', import.meta.url);
  if (!existsSync(built)) {
    process.stderr.write(`vnic: ${built.pathname} is missing: build the package first (pnpm build)\n`);
    process.exit(1);
  }
  await import(built.href);
}
