/** One thread's share of the wall time between two threadCpu() snapshots. */
export interface ThreadBusy {
  /** The thread id. */
  readonly tid: number;
  /** Its name (/proc/.../comm). */
  readonly comm: string;
  /** CPU time over wall time (0..1 for one thread). */
  readonly busy: number;
}

/**
 * The threads that used CPU between two threadCpu() snapshots (`tid comm` -> CPU seconds) over
 * `wallS` seconds, busiest first.
 */
export function busiestThreads(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, wallS: number): ThreadBusy[] {
  const out: ThreadBusy[] = [];
  for (const [key, cpu] of after) {
    const d = cpu - (before.get(key) ?? 0);
    if (d <= 0) continue;
    const space = key.indexOf(' ');
    out.push({ tid: Number(key.slice(0, space)), comm: key.slice(space + 1), busy: d / wallS });
  }
  return out.sort((a, b) => b.busy - a.busy);
}
