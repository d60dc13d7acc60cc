import { spawn, type ChildProcess } from 'node:child_process';

const MAIN = new URL('../../packages/cli/src/main.ts', import.meta.url).pathname;

/** A `vnic serve` child process run from the sources (startServe). */
export interface ServeProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout + stderr). */
  readonly output: () => string;
  /** Its exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Polls the output for `re` (rejects after `timeoutMs`, default 20 s, or when the process exited without it). */
  readonly waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>;
}

/**
 * Starts `vnic serve <args>` from the sources; `prefix` runs it under another command (e.g.
 * `ip netns exec <ns>`, so that its tap lives in that namespace).
 */
export function startServe(args: readonly string[], prefix: readonly string[] = []): ServeProcess {
  const command = [...prefix, process.execPath, '--import', 'tsx', MAIN, 'serve', ...args];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const waitFor = async (re: RegExp, timeoutMs = 20_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(out)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`vnic serve did not print ${re}:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, output: () => out, exited, waitFor };
}
