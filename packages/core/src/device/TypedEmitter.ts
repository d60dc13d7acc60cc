/** A minimal, dependency-free typed event emitter (core does no I/O, so no node:events). */
export class TypedEmitter<E extends { [K in keyof E]: (...args: never[]) => void }> {
  private readonly listeners = new Map<keyof E, Set<E[keyof E]>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: E[K]): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Removes a listener. */
  off<K extends keyof E>(event: K, listener: E[K]): void {
    this.listeners.get(event)?.delete(listener);
  }

  /** Calls every listener of `event`; a listener that throws never breaks the emitter. */
  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    for (const l of [...set]) {
      try {
        (l as (...a: Parameters<E[K]>) => void)(...args);
      } catch {
        // A VMM listener's failure must not reach the data plane.
      }
    }
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof E): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}
