import type { ChainArena } from '../queue/ChainArena.ts';
import type { DirtyLog } from './DirtyLog.ts';

/**
 * Marks in `log` the pages of the first `bytes` bytes of the device-writable buffers of arena
 * chains `from`, `from + 1`, ... (in order, as a frame is read across them), stopping at the
 * arena's last chain.
 */
export function markArenaWritten(log: DirtyLog, arena: ChainArena, from: number, bytes: number): void {
  let left = bytes;
  for (let c = from; c < arena.length && left > 0; c++) {
    const to = arena.descStart[c]! + arena.descCount[c]!;
    for (let k = arena.descStart[c]! + arena.firstWritable[c]!; k < to && left > 0; k++) {
      const n = Math.min(arena.len[k]!, left);
      if (n === 0) continue;
      log.markRange(arena.addr[k]!, n);
      left -= n;
    }
  }
}
