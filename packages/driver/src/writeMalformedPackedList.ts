import { PackedDriverQueue, type GuestMemory, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '@vnic/core';
import { DriverError } from './DriverError.ts';
import type { MalformedChain } from './MalformedChain.ts';

/**
 * Fault injection on a packed ring (virtio 1.2 §2.8), writeMalformedChain's twin: makes `q` carry
 * one malformed list of `kind` at its next available position, under a Buffer ID of its own
 * (PackedDriverQueue.addRaw), with `scratch` (a guest buffer of at least 8 KiB) as the one good
 * buffer, and publishes it; the caller kicks. A packed ring has no `next` fields and ignores
 * flags inside an indirect table but WRITE, so `loop`, `next-out-of-range` and `nested-indirect`
 * cannot be built (a DriverError says so). `avail-idx-jump`, the ring-level kind, becomes its
 * packed form: a list whose last descriptor says NEXT into a descriptor the driver never made
 * available (the device must stop the queue: CHAIN_NOT_AVAILABLE).
 */
export function writeMalformedPackedList(mem: GuestMemory, q: PackedDriverQueue, kind: MalformedChain, scratch: number): void {
  const end = mem.regions.reduce((m, r) => Math.max(m, r.guestPhysAddr + r.size), 0);
  const good = scratch;
  let descs: { addr: number | bigint; len: number; flags: number }[];
  switch (kind) {
    case 'avail-idx-jump':
      descs = [{ addr: good, len: 64, flags: VIRTQ_DESC_F_NEXT }];
      break;
    case 'address-out-of-memory':
      descs = [{ addr: end + 4096, len: 64, flags: 0 }];
      break;
    case 'address-overflow':
      descs = [{ addr: 0xffff_ffff_ffff_f000n, len: 0x2000, flags: 0 }];
      break;
    case 'length-overflow':
      descs = [{ addr: end - 16, len: 0xffff_ffff, flags: 0 }];
      break;
    case 'indirect-len':
      descs = [{ addr: good, len: 24, flags: VIRTQ_DESC_F_INDIRECT }];
      break;
    case 'indirect-too-long':
      // One entry more than the queue has descriptors (the device refuses it before reading the table).
      descs = [{ addr: good, len: 16 * (q.size + 1), flags: VIRTQ_DESC_F_INDIRECT }];
      break;
    case 'indirect-next':
      descs = [
        { addr: good, len: 16, flags: VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT },
        { addr: good, len: 64, flags: 0 },
      ];
      break;
    case 'readable-after-writable':
      descs = [
        { addr: good, len: 64, flags: VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT },
        { addr: good + 64, len: 64, flags: 0 },
      ];
      break;
    case 'loop':
    case 'next-out-of-range':
    case 'nested-indirect':
      throw new DriverError(
        'invalid-argument',
        `malformed kind ${kind} has no packed-ring form (no next fields; flags in an indirect table are ignored but WRITE)`,
      );
  }
  if (q.addRaw(mem, descs) === undefined) {
    throw new DriverError('invalid-state', `no ${descs.length} free descriptors on the packed ring for a malformed list (${kind}): reclaim first`);
  }
  q.publish(mem);
}
