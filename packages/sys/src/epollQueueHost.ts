import type { QueueHost } from '@vnic/core';
import type { EpollLoop } from './EpollLoop.ts';
import { EventFd } from './EventFd.ts';
import { guestMemoryFromLayout } from './memory/guestMemoryFromLayout.ts';

/**
 * The usual QueueHost (core's hook for the queue the device core serves, the control queue):
 * guest memory through guestMemoryFromLayout, kicks watched on `loop` (main thread; the counter
 * is read before the callback: a blocking fd is readable when the loop fires), calls signalled
 * by writing the eventfd. The VMM's eventfds are wrapped, never closed.
 */
export function epollQueueHost(loop: EpollLoop): QueueHost {
  return {
    mapMemory: (layout) => guestMemoryFromLayout(layout),
    watchKick(fd, onKick) {
      const kick = EventFd.fromFd(fd);
      loop.add(fd, () => {
        try {
          kick.read();
        } catch {
          // a closed fd or a spurious wake-up: the ring decides
        }
        onKick();
      });
      return () => loop.remove(fd);
    },
    signal: (fd) => EventFd.fromFd(fd).write(1n),
  };
}
