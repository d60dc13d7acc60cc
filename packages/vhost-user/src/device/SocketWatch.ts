import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Watches the directory of a unix socket path for the socket being (re)created: inotify through
 * fs.watch, one fd, no polling. wait(ms) resolves true as soon as an event names the socket (or
 * one came since the last wait), false after `ms`. When the directory cannot be watched (it does
 * not exist yet) every wait is a plain timer. close() releases the inotify fd.
 */
export class SocketWatch {
  readonly #name: string;
  #watcher: FSWatcher | undefined;
  #seen = false;
  #wake: (() => void) | undefined;

  constructor(path: string) {
    this.#name = basename(path);
    try {
      this.#watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file !== null && file.toString() !== this.#name) return;
        this.#seen = true;
        this.#wake?.();
      });
      this.#watcher.on('error', () => this.close());
    } catch {
      this.#watcher = undefined;
    }
  }

  /** Resolves true when the socket path changed since the last wait (at once if it already did), false after `ms`. */
  wait(ms: number): Promise<boolean> {
    if (this.#seen) {
      this.#seen = false;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve(false);
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#seen = false;
        resolve(true);
      };
    });
  }

  /** Stops watching. Idempotent. */
  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#wake?.();
  }
}
