import type { DescriptorChain } from '../queue/DescriptorChain.ts';
import type { DirtyLog } from './DirtyLog.ts';

/**
 * Marks in `log` the pages of the first `bytes` bytes of `chain`'s device-writable buffers (what
 * DescriptorChain.writeFrom wrote at offset 0).
 */
export function markChainWritten(log: DirtyLog, chain: DescriptorChain, bytes: number): void {
  let left = bytes;
  const descs = chain.descriptors;
  for (let i = chain.firstWritable; i < descs.length && left > 0; i++) {
    const d = descs[i]!;
    const n = Math.min(d.len, left);
    log.markRange(d.addr, n);
    left -= n;
  }
}
