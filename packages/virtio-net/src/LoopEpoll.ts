/**
 * The epoll a queue pair registers its fds with: one IO thread's epoll, seen through the pair's
 * slot. `data` is the pair's own event kind (EV_RX_KICK, EV_TAP, ...); the thread's loop tags it
 * with the slot so it knows whose fd woke it.
 */
export interface LoopEpoll {
  /** Registers `fd` for `events` (EPOLLIN, ...) with event kind `data`. */
  add(fd: number, events: number, data: number): void;
  /** Changes the events (or kind) of a registered fd. */
  modify(fd: number, events: number, data: number): void;
  /** Unregisters `fd`. */
  remove(fd: number): void;
}
