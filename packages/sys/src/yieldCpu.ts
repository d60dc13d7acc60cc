import { libc } from './native/libc.ts';

/**
 * sched_yield(2): a thread that busy-polls (an IO thread's IdlePoll window, a guest spinning on
 * its used ring) gives its CPU to another runnable thread on it, such as the very peer it waits
 * for when both share one CPU; with nothing else runnable it returns at once. It cannot fail.
 */
export function yieldCpu(): void {
  libc.sched_yield();
}
