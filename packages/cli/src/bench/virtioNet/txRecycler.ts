import { PackedDriverQueue, virtio_net } from '@vnic/core';
import type { RingLayout, VirtioNetDriver } from '@vnic/driver';
import { CliError } from '../../CliError.ts';
import { PackedRingRecycler } from './PackedRingRecycler.ts';
import { RingRecycler } from './RingRecycler.ts';

const TX_QUEUE = 1;

/**
 * The bench guest of transmitq 0 of `driver`, whose ring the driver filled with one frame of
 * `frameLen` bytes per slot (the `single` layout: header and frame in one buffer): a RingRecycler
 * on a split ring, a PackedRingRecycler on a packed one.
 */
export function txRecycler(driver: VirtioNetDriver, ring: RingLayout, frameLen: number): RingRecycler | PackedRingRecycler {
  const kick = (): void => driver.kick(TX_QUEUE);
  const q = driver.ring(TX_QUEUE);
  if (ring === 'packed') {
    if (!(q instanceof PackedDriverQueue)) throw new CliError('invalid-state', 'bench guest: a packed ring was asked for, but the driver set up a split ring');
    return new PackedRingRecycler(driver.memory, q, virtio_net.VIRTIO_NET_HDR_SIZE + frameLen, kick);
  }
  return new RingRecycler(driver.memory, driver.queue(TX_QUEUE), kick);
}
