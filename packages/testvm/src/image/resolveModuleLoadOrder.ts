import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestVmError } from '../TestVmError.ts';
import { readModinfo } from './readModinfo.ts';

/** A module to insmod: its name and its file in the unpacked kernel tree. */
export interface ModuleFile {
  readonly name: string;
  readonly path: string;
}

/** Module names compare with `-` and `_` as the same character, as modprobe does. */
const norm = (name: string): string => name.replace(/-/g, '_');

/**
 * What `modprobe --show-depends` would insmod for `wanted`, in load order (dependencies first,
 * each once), resolved from the `depends=` and `softdep=pre:` entries of each module's .modinfo in
 * `<modulesDir>` (a /lib/modules/<kver> tree; Debian's package ships no modules.dep). Built-in
 * modules (modules.builtin) are skipped; an unknown name is an error naming it.
 */
export function resolveModuleLoadOrder(modulesDir: string, wanted: readonly string[]): ModuleFile[] {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ko')) files.set(norm(e.name.slice(0, -3)), p);
    }
  };
  walk(join(modulesDir, 'kernel'));
  const builtin = new Set<string>();
  try {
    for (const line of readFileSync(join(modulesDir, 'modules.builtin'), 'utf8').split('\n')) {
      const base = line.trim().split('/').pop();
      if (base?.endsWith('.ko') === true) builtin.add(norm(base.slice(0, -3)));
    }
  } catch {
    // no modules.builtin: nothing is known to be built in
  }
  const order: ModuleFile[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (raw: string, neededBy: string | undefined): void => {
    const name = norm(raw);
    if (state.get(name) !== undefined || builtin.has(name)) return;
    const path = files.get(name);
    if (path === undefined) {
      throw new TestVmError(
        'invalid-argument',
        `kernel module "${raw}"${neededBy === undefined ? '' : ` (needed by ${neededBy})`} is neither a module nor built in under ${modulesDir}`,
      );
    }
    state.set(name, 'visiting');
    const info = readModinfo(path);
    const deps = (info.get('depends') ?? []).flatMap((d) => d.split(',')).filter((d) => d !== '');
    // softdep=pre: a b post: c  ->  load a and b first (as modprobe does); post deps are left out.
    const pre = (info.get('softdep') ?? []).flatMap((s) => /pre:\s*([^:]*?)(?:\s+post:|$)/.exec(s)?.[1]?.split(/\s+/) ?? []);
    for (const d of [...pre.filter((d) => d !== '' && files.has(norm(d))), ...deps]) visit(d, name);
    state.set(name, 'done');
    order.push({ name, path });
  };
  for (const w of wanted) visit(w, undefined);
  return order;
}
