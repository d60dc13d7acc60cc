import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { CliError } from '../../CliError.ts';

/**
 * A helper program of a bench (the C reference, the traffic source): started without a shell,
 * its output collected, lines waited for with a time limit, stopped by its own pid.
 */
export class BenchProcess {
  /** Everything the program printed on stdout so far. */
  stdout = '';
  /** Everything the program printed on stderr so far. */
  stderr = '';
  /** What the program is, for messages ("the C writev loop"). */
  readonly what: string;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;

  /** Starts `command args...`. */
  constructor(what: string, command: string, args: readonly string[]) {
    this.what = what;
    this.child = spawn(command, args, { stdio: 'pipe' });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.child.stdin.on('error', () => {}); // it may exit without reading its input
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code) => resolve(code));
      this.child.on('error', (e) => {
        this.stderr += `cannot start it: ${e.message}`;
        resolve(null);
      });
    });
  }

  /** True while the program runs. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /** Resolves with the first stdout line that `match` accepts; rejects when the program exits first or `timeoutMs` passes. */
  async waitForLine(match: (line: string) => boolean, timeoutMs: number, expected: string): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.stdout.split('\n').slice(0, -1).find(match);
      if (line !== undefined) return line;
      if (!this.running) throw new CliError('command-failed', `${this.what} exited before printing ${expected}: ${this.stderr.trim() || '(no stderr)'}`);
      if (Date.now() > deadline) throw new CliError('timeout', `${this.what} did not print ${expected} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Writes one line to the program's stdin. */
  writeLine(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Closes the program's stdin. */
  closeStdin(): void {
    this.child.stdin.end();
  }

  /** Sends `signal` to the program (by its pid) if it still runs. */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Waits for the program to exit (SIGKILL after `timeoutMs`); rejects on a non-zero exit. */
  async finish(timeoutMs: number): Promise<void> {
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    if (code !== 0) throw new CliError('command-failed', `${this.what} failed (exit ${code ?? 'by signal'}): ${this.stderr.trim() || '(no stderr)'}`);
  }

  /** Kills the program if it still runs and waits until it is gone (cleanup path; never throws). */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}
