import { EpollLoop } from './EpollLoop.ts';

let loop: EpollLoop | undefined;
let users = 0;

/**
 * The process-wide EpollLoop devices use when no container hands them one (a device built with
 * `VhostNetDevice.open(config)` or `VhostUserNetDevice.create(config, options)` alone): each loop
 * holds a libuv pool thread while it has fds, and the pool has only 4 by default, so one loop per
 * NIC would starve the rest of the VMM with 4+ NICs. Reference counted: `retain()` when a device
 * opens, `release()` when it closes; the last release closes the loop's epoll fd. A container
 * binds its own loop under EVENT_LOOP instead (closed when the container is disposed).
 */
export const sharedEpollLoop = {
  /** The loop, created on first use. */
  retain(): EpollLoop {
    users++;
    loop ??= new EpollLoop(100);
    return loop;
  },
  /** Drops one user; the last one closes the loop. */
  async release(): Promise<void> {
    if (users === 0) return;
    users--;
    if (users > 0 || loop === undefined) return;
    const l = loop;
    loop = undefined;
    await l.close();
  },
};
