import { performance } from 'node:perf_hooks';
import { ChainArena, DriverQueue, GuestMemory, PackedDriverQueue, PackedQueue, SplitQueue, type DeviceQueue } from '@vnic/core';
import type { RingLayout } from '@vnic/driver';
import { CliError } from '../../CliError.ts';
import { PackedRingRecycler } from '../virtioNet/PackedRingRecycler.ts';
import { RingRecycler } from '../virtioNet/RingRecycler.ts';

/** Where the rings and the buffers lie in the loop's guest memory. */
const RING_AT = 0x1_0000;
const DATA_AT = 0x10_0000;
/** Chains per TX step and steps per guest pump, as TxPath does (USED_BATCH, BUDGET / USED_BATCH). */
const STEP = 64;
const STEPS = 4;
/** A 64 B frame behind its virtio_net_hdr (mergeable-rx header, 12 bytes). */
const BUFFER_LEN = 76;

/** CPU nanoseconds per frame of one window of queueLoop, each side apart. */
export interface QueueLoopWindow {
  /** The device: disableNotification, popInto a step of chains, addUsedBatch, needsNotification; enableNotification per turn. */
  readonly deviceNs: number;
  /** The bench guest: one recycler pump per turn. */
  readonly guestNs: number;
  readonly frames: number;
}

/**
 * One window of the TX data plane's queue work without I/O, on one thread: a ring of `size`
 * one-buffer chains (`layout` split or packed, EVENT_IDX), the device side as TxPath drives it
 * (steps of 64 chains popped into a ChainArena and returned with length 0, four steps a turn)
 * and the bench guest that recycles them (RingRecycler or PackedRingRecycler), for `ms`
 * milliseconds. What the ring layout costs per frame, apart from the tap and thread wake-ups.
 * Throws a CliError when a chain goes wrong (a bug of the queue or the recycler).
 */
export function queueLoop(layout: RingLayout, size: number, ms: number): QueueLoopWindow {
  const mem = new GuestMemory([{ guestPhysAddr: 0, bytes: new Uint8Array(new SharedArrayBuffer(DATA_AT + BUFFER_LEN * size + 0x1000)) }]);
  let dev: DeviceQueue;
  let rec: RingRecycler | PackedRingRecycler;
  const buffers = (i: number): [{ addr: number; len: number; writable: false }] => [{ addr: DATA_AT + BUFFER_LEN * i, len: BUFFER_LEN, writable: false }];
  if (layout === 'packed') {
    const l = PackedDriverQueue.layout(RING_AT, size);
    const ring = { size, descRing: l.descRing, driverEvent: l.driverEvent, deviceEvent: l.deviceEvent, eventIdx: true };
    const drv = new PackedDriverQueue(ring);
    drv.init(mem);
    for (let i = 0; i < size; i++) drv.add(mem, buffers(i));
    drv.publish(mem);
    dev = new PackedQueue({ ...ring, indirectDesc: false, inOrder: false });
    rec = new PackedRingRecycler(mem, drv, BUFFER_LEN, () => {});
  } else {
    const l = DriverQueue.layout(RING_AT, size);
    const ring = { size, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: true };
    const drv = new DriverQueue(ring);
    drv.init(mem);
    for (let i = 0; i < size; i++) drv.add(mem, buffers(i));
    drv.publish(mem);
    dev = new SplitQueue({ ...ring, indirectDesc: false, inOrder: false });
    rec = new RingRecycler(mem, drv, () => {});
  }
  const bad = dev.validate(mem);
  if (bad !== undefined) throw new CliError('invalid-state', `queue loop: the ${layout} ring does not validate: ${bad}`);
  const arena = new ChainArena(STEP, size, size + 4 * STEP);
  const heads = new Uint16Array(STEP);
  const lens = new Uint32Array(STEP);
  let deviceMs = 0;
  let guestMs = 0;
  let frames = 0;
  const end = performance.now() + ms;
  for (let t0 = performance.now(); t0 < end;) {
    for (let s = 0; s < STEPS; s++) {
      dev.disableNotification(mem);
      arena.clear();
      while (arena.length < STEP && dev.popInto(mem, arena));
      const n = arena.length;
      for (let i = 0; i < n; i++) heads[i] = arena.head[i]!;
      dev.addUsedBatch(mem, heads, lens, n);
      dev.needsNotification(mem);
      frames += n;
    }
    dev.enableNotification(mem);
    const t1 = performance.now();
    if (rec.pump() !== STEP * STEPS) throw new CliError('invalid-state', `queue loop: the ${layout} guest did not get its ${STEP * STEPS} buffers back`);
    const t2 = performance.now();
    deviceMs += t1 - t0;
    guestMs += t2 - t1;
    t0 = t2;
  }
  if (dev.malformed !== 0 || dev.needsReset) throw new CliError('invalid-state', `queue loop: the ${layout} device saw ${dev.malformed} malformed chains`);
  return { deviceNs: (deviceMs * 1e6) / frames, guestNs: (guestMs * 1e6) / frames, frames };
}
