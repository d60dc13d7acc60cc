/**
 * Runs async operations one at a time, in the order they were queued: each starts after the one
 * before it settled (fulfilled or rejected). A failed operation rejects only its own caller; the
 * queue goes on. Used for every device operation that must not interleave (activate/reset/close,
 * ring programming, thread starts and stops, request/reply exchanges on one socket).
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  /** Queues `op`; resolves or rejects with what it returns, once every earlier operation has settled. */
  run<T>(op: () => T | Promise<T>): Promise<T> {
    this.#pending++;
    const result = this.#tail.then(op);
    this.#tail = result.then(
      () => void this.#pending--,
      () => void this.#pending--,
    );
    return result;
  }

  /** Operations queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /** Resolves once every operation queued so far has settled (never rejects). */
  idle(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}
