import { DriverQueue, featureBit, hasFeature, PackedDriverQueue, virtio as V, virtio_mmio as R, virtio_net as N } from '@vnic/core';
import { Epoll, EPOLLIN } from '@vnic/sys';
import { DRIVER_BUFFER_MAX } from './DRIVER_BUFFER_MAX.ts';
import { DRIVER_FEATURES } from './DRIVER_FEATURES.ts';
import { DriverBufferPool } from './DriverBufferPool.ts';
import { DriverError } from './DriverError.ts';
import type { DriverQueueState } from './DriverQueueState.ts';
import type { DriverRing } from './DriverRing.ts';
import type { DriverSetup } from './DriverSetup.ts';
import type { DriverStart } from './DriverStart.ts';
import { GuestAllocator } from './GuestAllocator.ts';
import { readMmioNetConfig } from './readMmioNetConfig.ts';
import { settleMmio } from './settleMmio.ts';
import { writeMmioAddr } from './writeMmioAddr.ts';

/**
 * Initialises the device behind `init.mmio` the way Linux virtio_net does (virtio 1.2 §3.1.1):
 * reset, ACKNOWLEDGE, DRIVER, features (the offer & the tuning & DRIVER_FEATURES), FEATURES_OK,
 * every queue (rings and buffers allocated in `init.ram`), DRIVER_OK, and checks the device did
 * not ask for a reset. Every epoll it creates is pushed onto `epolls` (the caller closes them if
 * this or a later step fails; FEATURES_OK refused sets FAILED).
 */
export async function bringUpMmio(init: DriverStart, epolls: Epoll[]): Promise<DriverSetup> {
  const t = init.mmio;
  const name = init.name;
  const options = init.tuning;
  const status = (): number => t.read(R.VIRTIO_MMIO_STATUS, 4);
  const setStatus = (bits: number): void => t.write(R.VIRTIO_MMIO_STATUS, 4, status() | bits);

  t.write(R.VIRTIO_MMIO_STATUS, 4, 0);
  await settleMmio(t);
  setStatus(V.VIRTIO_CONFIG_S_ACKNOWLEDGE);
  setStatus(V.VIRTIO_CONFIG_S_DRIVER);
  t.write(R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 0);
  const lo = t.read(R.VIRTIO_MMIO_DEVICE_FEATURES, 4) >>> 0;
  t.write(R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 1);
  const hi = t.read(R.VIRTIO_MMIO_DEVICE_FEATURES, 4) >>> 0;
  const offered = (BigInt(hi) << 32n) | BigInt(lo);
  const cfg = readMmioNetConfig(t);
  const offeredPairs = hasFeature(offered, N.VIRTIO_NET_F_MQ) ? cfg.maxVirtqueuePairs : 1;
  const wantPairs = options.queuePairs ?? offeredPairs;
  if (!Number.isInteger(wantPairs) || wantPairs < 1 || wantPairs > offeredPairs) {
    throw new DriverError('invalid-argument', `queuePairs ${wantPairs} is outside 1..${offeredPairs} (the device's maximum)`);
  }
  t.write(R.VIRTIO_MMIO_QUEUE_SEL, 4, 0);
  const numMax = t.read(R.VIRTIO_MMIO_QUEUE_NUM_MAX, 4);
  const size = options.queueSize ?? Math.min(256, numMax);
  if (size < 2 || size > numMax || (size & (size - 1)) !== 0) {
    throw new DriverError('invalid-argument', `queueSize ${size} must be a power of two between 2 and ${numMax}`);
  }
  const packed = options.ring === 'packed';
  if (packed && !hasFeature(offered, V.VIRTIO_F_RING_PACKED)) {
    throw new DriverError(
      'features-refused',
      `device ${name} does not offer VIRTIO_F_RING_PACKED (offered 0x${offered.toString(16)}); ring: 'packed' needs it`,
    );
  }
  const inOrder = options.inOrder === true;
  if (inOrder && !hasFeature(offered, V.VIRTIO_F_IN_ORDER)) {
    throw new DriverError('features-refused', `device ${name} does not offer VIRTIO_F_IN_ORDER (offered 0x${offered.toString(16)}); inOrder: true needs it`);
  }
  // RING_PACKED and IN_ORDER are the tuning's choice, whatever `features` says.
  const ringMask = DRIVER_FEATURES & ~featureBit(V.VIRTIO_F_RING_PACKED) & ~featureBit(V.VIRTIO_F_IN_ORDER);
  const features =
    (offered & (options.features ?? DRIVER_FEATURES) & ringMask) |
    (packed ? featureBit(V.VIRTIO_F_RING_PACKED) : 0n) |
    (inOrder ? featureBit(V.VIRTIO_F_IN_ORDER) : 0n);
  t.write(R.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 0);
  t.write(R.VIRTIO_MMIO_DRIVER_FEATURES, 4, Number(features & 0xffff_ffffn));
  t.write(R.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 1);
  t.write(R.VIRTIO_MMIO_DRIVER_FEATURES, 4, Number(features >> 32n));
  setStatus(V.VIRTIO_CONFIG_S_FEATURES_OK);
  if ((status() & V.VIRTIO_CONFIG_S_FEATURES_OK) === 0) {
    setStatus(V.VIRTIO_CONFIG_S_FAILED);
    throw new DriverError('features-refused', `device ${name} refused features 0x${features.toString(16)} (offered 0x${offered.toString(16)})`);
  }
  const mq = hasFeature(features, N.VIRTIO_NET_F_MQ);
  const hasCtrl = hasFeature(features, N.VIRTIO_NET_F_CTRL_VQ);
  const maxPairs = mq ? cfg.maxVirtqueuePairs : 1;
  const pairs = Math.min(wantPairs, maxPairs);
  const ctrlIndex = hasCtrl ? 2 * maxPairs : undefined;
  const eventIdx = hasFeature(features, V.VIRTIO_F_EVENT_IDX);
  const mrg = hasFeature(features, N.VIRTIO_NET_F_MRG_RXBUF);
  const guestGso =
    hasFeature(features, N.VIRTIO_NET_F_GUEST_TSO4) || hasFeature(features, N.VIRTIO_NET_F_GUEST_TSO6) || hasFeature(features, N.VIRTIO_NET_F_GUEST_UFO);
  const rxBufferSize = mrg ? (options.rxBufferSize ?? 2048) : guestGso ? 65_562 : 1526;
  const minRx = N.VIRTIO_NET_HDR_SIZE + 14;
  if (rxBufferSize < minRx || rxBufferSize > DRIVER_BUFFER_MAX.rxBuffer) {
    throw new DriverError('invalid-argument', `rxBufferSize ${rxBufferSize} must be between ${minRx} and ${DRIVER_BUFFER_MAX.rxBuffer}`);
  }
  const alloc = new GuestAllocator(init.ram.base, init.ram.size);
  const scratch = alloc.alloc(64 * 1024, 4096);
  const indices = [...Array(2 * pairs).keys()];
  if (ctrlIndex !== undefined) indices.push(ctrlIndex);
  const rxAny = Epoll.create();
  epolls.push(rxAny);
  const queues = new Map<number, DriverQueueState>();
  for (const index of indices) {
    t.write(R.VIRTIO_MMIO_QUEUE_SEL, 4, index);
    const max = t.read(R.VIRTIO_MMIO_QUEUE_NUM_MAX, 4);
    if (max === 0) throw new DriverError('device-failed', `device ${name} has no queue ${index}`);
    const qsize = Math.min(size, max);
    // Packed: the Descriptor, Driver and Device Areas go where a split ring's three parts go.
    const { q, areas } = packed ? packedRing(alloc, qsize, eventIdx, inOrder) : splitRing(alloc, qsize, eventIdx, inOrder);
    q.init(init.memory);
    t.write(R.VIRTIO_MMIO_QUEUE_NUM, 4, qsize);
    writeMmioAddr(t, R.VIRTIO_MMIO_QUEUE_DESC_LOW, R.VIRTIO_MMIO_QUEUE_DESC_HIGH, areas[0]);
    writeMmioAddr(t, R.VIRTIO_MMIO_QUEUE_AVAIL_LOW, R.VIRTIO_MMIO_QUEUE_AVAIL_HIGH, areas[1]);
    writeMmioAddr(t, R.VIRTIO_MMIO_QUEUE_USED_LOW, R.VIRTIO_MMIO_QUEUE_USED_HIGH, areas[2]);
    t.write(R.VIRTIO_MMIO_QUEUE_READY, 4, 1);
    const isRx = index !== ctrlIndex && index % 2 === 0;
    const bufSize = index === ctrlIndex ? 4096 : isRx ? rxBufferSize : DRIVER_BUFFER_MAX.txSlot;
    const count = isRx ? Math.min(qsize, options.rxBuffers ?? qsize) : qsize;
    const pool = new DriverBufferPool(alloc.alloc(bufSize * count, 4096), bufSize, count, { name, index });
    const { kick, call } = init.eventFds(index);
    const epoll = Epoll.create();
    epolls.push(epoll);
    epoll.add(call.fd, EPOLLIN, index);
    if (isRx) rxAny.add(call.fd, EPOLLIN, index);
    queues.set(index, { index, q, kick, call, epoll, pool });
  }
  setStatus(V.VIRTIO_CONFIG_S_DRIVER_OK);
  await settleMmio(t);
  if ((status() & V.VIRTIO_CONFIG_S_NEEDS_RESET) !== 0) {
    throw new DriverError('device-failed', `device ${name} set DEVICE_NEEDS_RESET at DRIVER_OK`);
  }
  return { features, queuePairs: pairs, queueSize: size, ctrlIndex, rxBufferSize, alloc, scratch, rxAny, queues };
}

/** A split ring of `size` (descriptor table, avail ring, used ring) and its three addresses. */
function splitRing(alloc: GuestAllocator, size: number, eventIdx: boolean, inOrder: boolean): { q: DriverRing; areas: readonly [number, number, number] } {
  const l = DriverQueue.layout(alloc.alloc(16 * size + 6 + 2 * size + 8 + 6 + 8 * size, 4096), size);
  return {
    q: new DriverQueue({ size, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx, inOrder }),
    areas: [l.descTable, l.availRing, l.usedRing],
  };
}

/** A packed ring of `size` (descriptor ring, driver and device event suppression) and its three addresses. */
function packedRing(alloc: GuestAllocator, size: number, eventIdx: boolean, inOrder: boolean): { q: DriverRing; areas: readonly [number, number, number] } {
  const l = PackedDriverQueue.layout(alloc.alloc(16 * size + 8 + 16, 4096), size);
  const q = new PackedDriverQueue({ size, descRing: l.descRing, driverEvent: l.driverEvent, deviceEvent: l.deviceEvent, eventIdx, inOrder });
  return { q, areas: [l.descRing, l.driverEvent, l.deviceEvent] };
}
