import { readdirSync, readFileSync } from 'node:fs';

/**
 * Kernel SQ threads (IORING_SETUP_SQPOLL) of this process now: its tasks named `iou-sqp-<pid>`
 * in /proc/self/task. One per SqPollGroup with an open ring; 0 once every SQPOLL ring is closed
 * (the thread exits shortly after the last ring's close, not inside it).
 */
export function sqPollThreads(): number {
  let n = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').startsWith('iou-sqp')) n++;
    } catch {
      // the task ended meanwhile
    }
  }
  return n;
}
