import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { CliError } from '../CliError.ts';

/** Collects a child's output and lets the caller wait for a line or for its exit, with time limits. */
export class ChildOutput {
  /** Everything the child printed on stdout so far. */
  stdout = '';
  /** Everything the child printed on stderr so far. */
  stderr = '';
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly what: string;
  private readonly exited: Promise<number | null>;

  constructor(child: ChildProcessWithoutNullStreams, what: string) {
    this.child = child;
    this.what = what;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => {
      child.on('close', (code) => resolve(code));
      child.on('error', () => resolve(null));
    });
  }

  /** Resolves once stdout has a line equal to `line`; rejects if the child exits first or `timeoutMs` passes. */
  async waitForLine(line: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stdout.split('\n').includes(line)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new CliError('command-failed', `${this.what} exited before printing "${line}": ${this.stderr.trim() || '(no stderr)'}`);
      }
      if (Date.now() > deadline) throw new CliError('timeout', `${this.what} did not print "${line}" within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits for the child to exit (killing it after `timeoutMs`) and returns its stdout; rejects on a non-zero exit. */
  async finish(timeoutMs: number): Promise<string> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    if (code !== 0) throw new CliError('command-failed', `${this.what} failed (exit ${code ?? 'by signal'}): ${this.stderr.trim() || '(no stderr)'}`);
    return this.stdout;
  }

  /** Kills the child if it still runs. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
