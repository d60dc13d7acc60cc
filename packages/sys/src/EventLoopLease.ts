import type { EpollLoop } from './EpollLoop.ts';
import { sharedEpollLoop } from './sharedEpollLoop.ts';

/** The loop a device watches its fds on, and how to give it back when the device closes. */
export interface EventLoopLease {
  readonly loop: EpollLoop;
  /** Called once when the device closes: releases the process-wide loop, no-op for a loop handed in. */
  release(): Promise<void>;
}

/**
 * The loop `given` (a container's EVENT_LOOP: its owner closes it) or, without one, a reference on
 * the process-wide sharedEpollLoop (released when the device closes).
 */
export function leaseEventLoop(given: EpollLoop | undefined): EventLoopLease {
  if (given !== undefined) return { loop: given, release: async () => {} };
  let released = false;
  return {
    loop: sharedEpollLoop.retain(),
    release: async () => {
      if (released) return;
      released = true;
      await sharedEpollLoop.release();
    },
  };
}
