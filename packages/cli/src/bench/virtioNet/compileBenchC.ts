import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCc } from './runCc.ts';

/** Where the C sources of the benches live (packages/cli/bench-c). */
const SOURCE_DIR = fileURLToPath(new URL('../../../bench-c/', import.meta.url));

/**
 * Compiles `packages/cli/bench-c/<name>.c` for each name with `cc -O2` into a fresh temporary
 * directory under `parent` (default the system's temporary directory) and returns the directory
 * (the caller removes it) and the path of each program.
 */
export async function compileBenchC<N extends string>(names: readonly N[], parent = tmpdir()): Promise<{ dir: string; programs: Record<N, string> }> {
  const dir = await mkdtemp(join(parent, 'vnic-bench-c-'));
  const programs = {} as Record<N, string>;
  try {
    for (const name of names) {
      const out = join(dir, name);
      await runCc(['-O2', '-Wall', '-o', out, join(SOURCE_DIR, `${name}.c`)]);
      programs[name] = out;
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return { dir, programs };
}
