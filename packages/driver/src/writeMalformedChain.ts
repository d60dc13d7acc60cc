import { DriverQueue, type GuestMemory, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '@vnic/core';
import type { MalformedChain } from './MalformedChain.ts';

/**
 * Fault injection: makes `q` carry one malformed chain of `kind` (VirtioNetDriver.postMalformed).
 * Uses descriptor slots at the top of the table and `scratch` (a guest buffer of at least 8 KiB) as
 * the one good buffer. Publishes the chain (or, for `avail-idx-jump`, corrupts avail->idx); the
 * caller kicks.
 */
export function writeMalformedChain(mem: GuestMemory, q: DriverQueue, kind: MalformedChain, scratch: number): void {
  const r0 = q.size - 1;
  const r1 = q.size - 2;
  const end = mem.regions.reduce((m, r) => Math.max(m, r.guestPhysAddr + r.size), 0);
  const good = scratch;
  const w = (i: number, addr: number | bigint, len: number, flags: number, next = 0): void => q.writeDescriptor(mem, i, { addr, len, flags, next });
  switch (kind) {
    case 'avail-idx-jump':
      q.setAvailIdxRaw(mem, q.nextAvail + q.size + 1);
      return;
    case 'loop':
      w(r0, good, 64, VIRTQ_DESC_F_NEXT, r1);
      w(r1, good, 64, VIRTQ_DESC_F_NEXT, r0);
      break;
    case 'next-out-of-range':
      w(r0, good, 64, VIRTQ_DESC_F_NEXT, q.size + 3);
      break;
    case 'address-out-of-memory':
      w(r0, end + 4096, 64, 0);
      break;
    case 'address-overflow':
      w(r0, 0xffff_ffff_ffff_f000n, 0x2000, 0);
      break;
    case 'length-overflow':
      w(r0, end - 16, 0xffff_ffff, 0);
      break;
    case 'indirect-len':
      w(r0, good, 24, VIRTQ_DESC_F_INDIRECT);
      break;
    case 'indirect-too-long':
      // One entry more than the queue has descriptors (the device refuses it before reading the table).
      w(r0, good, 16 * (q.size + 1), VIRTQ_DESC_F_INDIRECT);
      break;
    case 'nested-indirect':
      DriverQueue.writeDescriptorAt(mem, good, { addr: good + 4096, len: 16, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
      w(r0, good, 16, VIRTQ_DESC_F_INDIRECT);
      break;
    case 'indirect-next':
      w(r0, good, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, r1);
      w(r1, good, 64, 0);
      break;
    case 'readable-after-writable':
      w(r0, good, 64, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, r1);
      w(r1, good + 64, 64, 0);
      break;
  }
  q.pushAvailRaw(mem, r0);
  q.publish(mem);
}
