import { hasFeature, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED } from '@vnic/core';
import type { FrontendMemory } from './FrontendMemory.ts';
import { VhostUserDeviceError } from './VhostUserDeviceError.ts';
import type { Vring } from './VringTable.ts';

/** Guest-physical addresses of one ring's three parts (packed: descriptor ring, driver and device event suppression). */
export interface RingAddresses {
  readonly descTable: number;
  readonly availRing: number;
  readonly usedRing: number;
}

/**
 * The guest-physical addresses of ring `index` (SET_VRING_ADDR carries frontend virtual
 * addresses): each part translated through the memory table, with its length for the ring's size
 * (plus the EVENT_IDX word when negotiated). Needs the ring's size and addresses; throws a
 * VhostUserDeviceError `protocol` naming the part when it is not inside one region.
 */
export function ringAddresses(index: number, ring: Vring, mem: FrontendMemory, features: bigint | undefined, at: string): RingAddresses {
  const num = ring.num!;
  const a = ring.addr!;
  const eventIdx = features !== undefined && hasFeature(features, VIRTIO_F_EVENT_IDX) ? 2 : 0;
  const part = (what: string, user: bigint, len: number): number => {
    const gpa = mem.translate(user, len);
    if (gpa === undefined) {
      throw new VhostUserDeviceError(
        'protocol',
        `${at}: vring ${index} ${what} at frontend address 0x${user.toString(16)} (${len} bytes for size ${num}) is not inside one SET_MEM_TABLE region`,
      );
    }
    return gpa;
  };
  if (features !== undefined && hasFeature(features, VIRTIO_F_RING_PACKED)) {
    // Packed (virtio 1.2 §2.8): the descriptor ring and the two 4-byte event suppression structures.
    return {
      descTable: part('descriptor ring', a.descUserAddr, 16 * num),
      availRing: part('driver event suppression', a.availUserAddr, 4),
      usedRing: part('device event suppression', a.usedUserAddr, 4),
    };
  }
  return {
    descTable: part('descriptor table', a.descUserAddr, 16 * num),
    availRing: part('avail ring', a.availUserAddr, 4 + 2 * num + eventIdx),
    usedRing: part('used ring', a.usedUserAddr, 4 + 8 * num + eventIdx),
  };
}
