import { describe, expect, it } from 'vitest';
import { VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, featureBit } from '../defs/virtio.ts';
import type { QueueContext } from '../device/QueueContext.ts';
import { GuestMemory } from '../memory/GuestMemory.ts';
import { AvailPoll } from './AvailPoll.ts';
import type { DeviceQueue } from './DeviceQueue.ts';
import { DriverQueue } from './DriverQueue.ts';
import { PackedDriverQueue } from './PackedDriverQueue.ts';
import { packedQueueFor } from './packedQueueFor.ts';
import { splitQueueFor } from './splitQueueFor.ts';

const BASE = 0x1_0000;
const DATA = 0x1_8000;

interface Driver {
  add(mem: GuestMemory, buffers: readonly { addr: number; len: number; writable: boolean }[]): number | undefined;
  publish(mem: GuestMemory): void;
  kickNeeded(mem: GuestMemory): boolean;
  popUsed(mem: GuestMemory): unknown;
}

function qc(l: { descTable: number; availRing: number; usedRing: number }, size: number): QueueContext {
  return { index: 0, size, ...l, kickFd: -1, callFd: -1 };
}

/** A driver and the device's queue over one ring, split or packed, with or without EVENT_IDX. */
function ring(packed: boolean, eventIdx: boolean): { mem: GuestMemory; q: DeviceQueue; drv: Driver } {
  const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x1_0000) }]);
  const features = (eventIdx ? featureBit(VIRTIO_F_EVENT_IDX) : 0n) | (packed ? featureBit(VIRTIO_F_RING_PACKED) : 0n);
  if (packed) {
    const l = PackedDriverQueue.layout(BASE, 8);
    const drv = new PackedDriverQueue({ size: 8, descRing: l.descRing, driverEvent: l.driverEvent, deviceEvent: l.deviceEvent, eventIdx });
    drv.init(mem);
    return { mem, q: packedQueueFor(qc({ descTable: l.descRing, availRing: l.driverEvent, usedRing: l.deviceEvent }, 8), features, mem), drv };
  }
  const l = DriverQueue.layout(BASE, 8);
  const drv = new DriverQueue({ size: 8, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx });
  drv.init(mem);
  return { mem, q: splitQueueFor(qc(l, 8), features, mem), drv };
}

/** The driver makes one buffer available; true when it had to kick. */
function post(t: { mem: GuestMemory; drv: Driver }, k: number): boolean {
  t.drv.add(t.mem, [{ addr: DATA + 0x100 * k, len: 64, writable: false }]);
  t.drv.publish(t.mem);
  return t.drv.kickNeeded(t.mem);
}

/** The device takes every available buffer and hands it back; the driver takes it back. */
function drain(t: { mem: GuestMemory; q: DeviceQueue; drv: Driver }): number {
  let n = 0;
  for (let c = t.q.pop(t.mem); c !== undefined; c = t.q.pop(t.mem)) {
    t.q.addUsed(t.mem, c.head, 0);
    n++;
  }
  while (t.drv.popUsed(t.mem) !== undefined);
  return n;
}

describe('AvailPoll: no kicks while the device polls the available ring', () => {
  for (const packed of [false, true]) {
    for (const eventIdx of [false, true]) {
      const name = `${packed ? 'packed' : 'split'}${eventIdx ? ', EVENT_IDX' : ''}`;

      it(`${name}: while quiet the driver does not kick and poll finds its buffers; armed again, the next buffer kicks`, () => {
        const t = ring(packed, eventIdx);
        const p = new AvailPoll(t.q);
        t.q.enableNotification(t.mem);
        expect(post(t, 0)).toBe(true); // notifications on: the driver kicks
        expect(drain(t)).toBe(1);
        p.quiet(t.mem);
        for (let round = 0; round < 20; round++) {
          expect(p.poll(t.mem)).toBe(false);
          expect(post(t, round % 4)).toBe(false); // the device polls: no kick
          expect(p.poll(t.mem)).toBe(true);
          expect(p.active).toBe(true); // still quiet while the device serves what it found
          expect(drain(t)).toBe(1);
          p.quiet(t.mem); // the next window: nothing to write, still quiet
        }
        expect(p.arm(t.mem)).toBe(false); // nothing arrived: the device may sleep
        expect(p.active).toBe(false);
        expect(post(t, 1)).toBe(true); // and the driver kicks it awake
        expect(drain(t)).toBe(1);
      });

      it(`${name}: a buffer made available after the last poll, without a kick, is found by arm (no lost kick)`, () => {
        const t = ring(packed, eventIdx);
        const p = new AvailPoll(t.q);
        for (let round = 0; round < 20; round++) {
          p.quiet(t.mem);
          expect(p.poll(t.mem)).toBe(false);
          expect(post(t, round % 4)).toBe(false); // the driver was told not to kick ...
          expect(p.arm(t.mem)).toBe(true); // ... so arm must see the buffer before the device sleeps
          expect(drain(t)).toBe(1);
          expect(p.arm(t.mem)).toBe(false); // not quieted since: nothing to re-arm
        }
      });

      it(`${name}: release hands the ring back as it is: kicks stay off, and arm no longer turns them on`, () => {
        const t = ring(packed, eventIdx);
        const p = new AvailPoll(t.q);
        t.q.enableNotification(t.mem);
        p.quiet(t.mem);
        expect(post(t, 0)).toBe(false);
        expect(p.poll(t.mem)).toBe(true);
        p.release(); // the data plane keeps kicks off for a reason of its own (a full tap)
        expect(p.active).toBe(false);
        expect(p.poll(t.mem)).toBe(false);
        expect(p.arm(t.mem)).toBe(false);
        expect(drain(t)).toBe(1);
        expect(post(t, 1)).toBe(false); // still off until the data plane turns them on
        expect(t.q.enableNotification(t.mem)).toBe(true); // it finds the buffer posted meanwhile
        expect(drain(t)).toBe(1);
        expect(t.q.enableNotification(t.mem)).toBe(false); // drained: kicks on for good
        expect(post(t, 2)).toBe(true);
      });

      it(`${name}: a queue it did not quiet is neither polled nor re-armed`, () => {
        const t = ring(packed, eventIdx);
        const p = new AvailPoll(t.q);
        t.q.disableNotification(t.mem); // the data plane's own reason (a full tap)
        expect(post(t, 0)).toBe(false);
        expect(p.poll(t.mem)).toBe(false);
        expect(p.arm(t.mem)).toBe(false);
        expect(post(t, 1)).toBe(false); // still off: arm did not turn kicks back on
      });
    }
  }
});
