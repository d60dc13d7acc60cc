import { spawn } from 'node:child_process';
import { TestVmError } from './TestVmError.ts';

/**
 * Runs a host tool to completion (apt-get, dpkg-deb, xz) and returns its stdout. A missing tool or
 * a nonzero exit becomes a TestVmError of `kind` naming the command and its stderr tail.
 */
export function runTool(
  command: string,
  args: readonly string[],
  kind: string,
  options: { cwd?: string; input?: Buffer; timeoutMs?: number } = {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' },
    });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.stdin?.on('error', () => {}); // a tool that exits early closes its stdin: the exit code tells
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new TestVmError(e.code === 'ENOENT' ? 'unavailable' : kind, `${command}: ${e.code === 'ENOENT' ? 'not found on PATH' : e.message}`, { cause: e }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new TestVmError(kind, `${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${err.trim().slice(-1500)}`));
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
