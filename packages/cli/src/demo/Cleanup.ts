import { errorMessage } from '@vnic/core';

/** Teardown steps run in reverse order of registration, each once, each failure reported and skipped. */
export class Cleanup {
  private readonly steps: { readonly label: string; readonly run: () => unknown }[] = [];
  private running: Promise<string[]> | undefined;

  /** Registers a step; `label` is what the summary says was done ("device closed"). */
  add(label: string, run: () => unknown): void {
    this.steps.push({ label, run });
  }

  /**
   * Runs every registered step, last first; resolves with one line per step ("device closed" or
   * "device: <error>"). Concurrent calls (Ctrl-C during a normal teardown) share one run.
   */
  runAll(): Promise<string[]> {
    this.running ??= (async () => {
      const lines: string[] = [];
      while (this.steps.length > 0) {
        const step = this.steps.pop()!;
        try {
          await step.run();
          lines.push(step.label);
        } catch (err) {
          lines.push(`${step.label} FAILED: ${errorMessage(err)}`);
        }
      }
      this.running = undefined;
      return lines;
    })();
    return this.running;
  }
}
