import { GuestMemory } from '../../packages/core/src/memory/GuestMemory.ts';
import { SplitQueue } from '../../packages/core/src/queue/SplitQueue.ts';
import { FuzzOracleError } from '../FuzzOracleError.ts';

/** Guest-physical base of the one fuzzed region. */
export const SPLIT_QUEUE_GPA = 0x1000;
/** Bytes of the fuzzed region (the input, zero-padded or cut to this size, after a 2-byte prefix). */
export const SPLIT_QUEUE_REGION = 0x2000;
const GUARD = 64;
const CANARY = 0x5a;

/**
 * Fuzz target for the split-queue chain parser (SplitQueue.pop + DescriptorChain copies).
 * Input: byte 0 = log2(queue size) (mod 8) and flags (bit 4 EVENT_IDX, bit 5 INDIRECT_DESC), byte 1 =
 * pop budget; the rest is the guest region at SPLIT_QUEUE_GPA (desc table at +0, avail ring at
 * +0x1000, used ring at +0x1800). Oracle: nothing throws, no byte outside the region changes
 * (canaries), every chain popped lies inside guest memory with readable buffers first.
 */
export function splitQueueTarget(data: Uint8Array): void {
  const b0 = data[0] ?? 0;
  const size = 1 << (b0 % 8);
  const backing = new Uint8Array(GUARD + SPLIT_QUEUE_REGION + GUARD).fill(CANARY);
  backing.set(data.subarray(2, 2 + SPLIT_QUEUE_REGION), GUARD);
  const mem = new GuestMemory([{ guestPhysAddr: SPLIT_QUEUE_GPA, bytes: backing.subarray(GUARD, GUARD + SPLIT_QUEUE_REGION) }]);
  const q = new SplitQueue({
    size,
    descTable: SPLIT_QUEUE_GPA,
    availRing: SPLIT_QUEUE_GPA + 0x1000,
    usedRing: SPLIT_QUEUE_GPA + 0x1800,
    eventIdx: (b0 & 0x10) !== 0,
    indirectDesc: (b0 & 0x20) !== 0,
  });
  if (q.validate(mem) !== undefined) throw new FuzzOracleError('rings placed inside the region were refused');
  const budget = (data[1] ?? 0) + 1;
  const scratch = new Uint8Array(4096).fill(0xc3);
  for (let i = 0; i < budget; i++) {
    q.disableNotification(mem);
    const chain = q.pop(mem);
    if (chain === undefined) break;
    if (chain.head < 0 || chain.head >= size) throw new FuzzOracleError(`head ${chain.head} outside queue size ${size}`);
    let writable = false;
    for (const d of chain.descriptors) {
      if (!mem.checkRange(d.addr, d.len)) throw new FuzzOracleError(`descriptor 0x${d.addr.toString(16)}+${d.len} outside memory`);
      if (writable && !d.writable) throw new FuzzOracleError('readable descriptor after a writable one');
      writable ||= d.writable;
    }
    const got = chain.readAll(mem);
    if (got.length > chain.readableLength) throw new FuzzOracleError('readAll returned more than the readable length');
    const wrote = chain.writeFrom(mem, scratch.subarray(0, Math.min(scratch.length, (data[i + 2] ?? 0) * 16)), i % 3);
    if (wrote > chain.writableLength) throw new FuzzOracleError('writeFrom wrote more than the writable length');
    q.addUsed(mem, chain.head, wrote);
    q.needsNotification(mem);
    q.enableNotification(mem);
  }
  if (q.malformed > 0 && q.lastError === undefined && !q.needsReset) throw new FuzzOracleError('malformed chain counted without a reason');
  for (let i = 0; i < GUARD; i++) {
    if (backing[i] !== CANARY || backing[GUARD + SPLIT_QUEUE_REGION + i] !== CANARY) throw new FuzzOracleError('write outside guest memory (canary changed)');
  }
}
