import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderRunScript } from './renderRunScript.ts';

describe('renderRunScript', () => {
  const dir = mkdtempSync(join(tmpdir(), "vnic run 'script' "));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (command: string[], env: Record<string, string>, cwd: string): { out: string; code: number } => {
    writeFileSync(join(dir, 'run.sh'), renderRunScript(command, env, cwd));
    try {
      return { out: execFileSync('/bin/sh', [join(dir, 'run.sh')], { encoding: 'utf8', env: {}, stdio: ['ignore', 'pipe', 'pipe'] }), code: 0 };
    } catch (err) {
      return { out: '', code: (err as { status: number }).status };
    } finally {
      rmSync(join(dir, 'run.sh'));
    }
  };

  it('passes argv, environment and cwd through sh unchanged (quotes, spaces, $, backslashes)', () => {
    const args = ["it's", 'a b', '$HOME', '`x`', 'back\\slash', '', '"q"'];
    const r = run(['/usr/bin/env', 'sh', '-c', 'pwd; printf "<%s>\\n" "$@"; echo "V=$V"', 'sh', ...args], { V: "x'y $z" }, dir);
    expect(r.out).toBe(`${dir}\n${args.map((a) => `<${a}>`).join('\n')}\nV=x'y $z\n`);
  });

  it('exits 125 when the working directory is missing', () => {
    expect(run(['true'], {}, '/nonexistent/vnic').code).toBe(125);
  });
});
