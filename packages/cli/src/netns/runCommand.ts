import { spawn } from 'node:child_process';
import { CliError } from '../CliError.ts';
import type { CommandResult } from './CommandResult.ts';

/** Known stderr phrases of iproute2 and the kernel, and what the user can do about them. */
const HINTS: readonly (readonly [RegExp, string])[] = [
  [/Operation not permitted|Permission denied/i, 'run as root (network namespaces and taps need CAP_SYS_ADMIN and CAP_NET_ADMIN)'],
  [/File exists/i, 'the name is taken: pick another one, or remove the old one (ip netns del NAME / ip link del NAME)'],
  [
    /Cannot find device|does not exist|No such device/i,
    'the interface is not in this namespace (a tap disappears when its last fd closes; a moved link lives in its namespace now)',
  ],
  [/Cannot open network namespace/i, 'the namespace does not exist (ip netns list shows the ones that do)'],
  [/Invalid argument/i, 'check the address and interface name'],
];

/** The hint for a failed command's stderr, if one is known. */
function hintFor(stderr: string): string | undefined {
  return HINTS.find(([re]) => re.test(stderr))?.[1];
}

/**
 * Runs `command args...` without a shell, collecting its output, and resolves with it. Throws a
 * CliError naming the command line, its stderr and what to do when it cannot start (`ENOENT`:
 * install it), runs past `timeoutMs` (it is killed) or exits non-zero (unless `allowFailure`).
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { readonly timeoutMs?: number; readonly input?: string; readonly allowFailure?: boolean } = {},
): Promise<CommandResult> {
  const line = [command, ...args].join(' ');
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const what = err.code === 'ENOENT' ? `${command} is not installed (on Debian: apt-get install ${command === 'ip' ? 'iproute2' : command})` : err.message;
      reject(new CliError('command-failed', `${line}: cannot run it: ${what}`, { cause: err }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const err = stderr.trim();
      if (timedOut) {
        reject(new CliError('timeout', `${line}: still running after ${timeoutMs} ms, killed${err === '' ? '' : ` (stderr: ${err})`}`));
        return;
      }
      if (code !== 0 && options.allowFailure !== true) {
        const hint = hintFor(err);
        reject(
          new CliError(
            'command-failed',
            `${line} failed (exit ${code ?? 'by signal'}): ${err === '' ? '(no stderr)' : err}${hint === undefined ? '' : ` — ${hint}`}`,
          ),
        );
        return;
      }
      resolve({ stdout, stderr, code });
    });
    child.stdin.on('error', () => {}); // a command that exits without reading its input
    child.stdin.end(options.input ?? '');
  });
}
