import { spawn } from 'node:child_process';
import { CliError } from '../../CliError.ts';

/** Runs `cc args...`; resolves with its stderr, rejects with a CliError naming what to install or what failed. */
export function runCc(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('cc', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        new CliError(
          'unavailable',
          e.code === 'ENOENT'
            ? 'cc is not installed: the C reference is compiled when the bench runs (on Debian: apt-get install gcc)'
            : `cc ${args.join(' ')}: cannot run it: ${e.message}`,
          { cause: e },
        ),
      );
    });
    child.on('close', (code) => {
      if (code === 0) resolve(err);
      else reject(new CliError('command-failed', `cc ${args.join(' ')} failed (exit ${code ?? 'by signal'}): ${err.trim() || '(no output)'}`));
    });
  });
}
