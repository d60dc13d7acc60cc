import { IoThreadPool } from './IoThreadPool.ts';

/**
 * Terminates the idle IO threads of the process-wide pool (IoThreadPool.shared) now and waits for
 * them to exit. Not needed in normal use: idle threads never keep the process alive, and closing
 * the last device terminates them. Threads of active devices are not touched: reset or close
 * those first. A container's pool is closed by disposing the container.
 */
export function shutdownIoThreads(): Promise<void> {
  return IoThreadPool.shared.shutdown();
}
