import { Epoll } from './Epoll.ts';
import { EPOLLIN } from './linux/eventpoll.ts';

/** Handler of one watched fd: called with the EPOLL* bits whenever it is ready. */
export type EpollHandler = (events: number) => void;

/**
 * One async epoll loop on the main thread (Epoll.waitAsync in slices of `sliceMs`), shared by
 * every device of a container (EVENT_LOOP) or of the process (sharedEpollLoop): vhost-user
 * sockets, listening sockets, control-queue kick and vring-error eventfds. One loop keeps it to
 * one libuv pool thread at a time; the loop runs only while at least one fd is registered. Handlers must tolerate spurious wake-ups.
 */
export class EpollLoop {
  readonly #epoll = Epoll.create();
  readonly #handlers = new Map<number, EpollHandler>();
  readonly #sliceMs: number;
  readonly #onError: (err: unknown) => void;
  #running: Promise<void> | undefined;
  #closed = false;

  /**
   * @param sliceMs longest single epoll_wait (bounds how long close() waits and how long a pool thread is held)
   * @param onError called when a handler throws (the loop goes on)
   */
  constructor(sliceMs = 100, onError: (err: unknown) => void = () => {}) {
    this.#sliceMs = sliceMs;
    this.#onError = onError;
  }

  /** Watches `fd` for EPOLLIN (EPOLLHUP/EPOLLERR always come too). */
  add(fd: number, handler: EpollHandler): void {
    if (this.#closed) return;
    this.#epoll.add(fd, EPOLLIN, fd);
    this.#handlers.set(fd, handler);
    this.#running ??= this.#run();
  }

  /** Stops watching `fd` (before the caller closes it). Unknown fds are ignored. */
  remove(fd: number): void {
    if (!this.#handlers.delete(fd) || this.#closed) return;
    try {
      this.#epoll.remove(fd);
    } catch {
      // already closed elsewhere: the kernel dropped it from the set
    }
  }

  /** Number of watched fds. */
  get size(): number {
    return this.#handlers.size;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops the loop (after the current slice) and closes the epoll fd. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers.clear();
    await this.#running;
    this.#epoll.close();
  }

  async #run(): Promise<void> {
    try {
      while (!this.#closed && this.#handlers.size > 0) {
        const events = await this.#epoll.waitAsync(32, this.#sliceMs);
        for (const e of events) {
          const h = this.#handlers.get(e.data);
          if (h === undefined) continue;
          try {
            h(e.events);
          } catch (err) {
            this.#onError(err);
          }
        }
      }
    } catch (err) {
      this.#onError(err);
    } finally {
      this.#running = undefined;
      // A handler added while the last slice was finishing restarts the loop.
      if (!this.#closed && this.#handlers.size > 0) this.#running = this.#run();
    }
  }
}
