import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../memory/GuestMemory.ts';
import type { DriverBuffer } from './DriverQueue.ts';
import { CALL, KICK, STOP, type LoopbackDeviceData, type LoopbackDeviceReport } from './fixtures/packedLoopbackDevice.ts';
import { PackedDriverQueue } from './PackedDriverQueue.ts';

// The driver (this thread) and the device (a worker_thread running PackedQueue) share guest memory
// (a SharedArrayBuffer) and nothing else but kick/call counters: every frame goes out on a packed TX
// queue, the device loops it back into the RX queue, and the driver checks each byte, in order.

const BASE = 0x10_0000;
const TX_RING = BASE;
const RX_RING = BASE + 0x1_0000;
const TX_BUF = BASE + 0x2_0000; // 2 KiB per TX area
const TX_TABLE = BASE + 0xa_0000; // 64 bytes (up to 4 entries) per TX area
const RX_BUF = BASE + 0x10_0000; // 2 KiB per RX area, posted as two 1 KiB writable elements
const AREA = 2048;

/** Worker source that registers tsx (Node 20 ignores `--import` in a worker's execArgv), then loads the entry. */
function tsWorker(entry: URL): string {
  const api = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
}

/** Deterministic frames of 1..1800 bytes; the first four carry the sequence number. */
function makeFrames(n: number, seed: number): Uint8Array[] {
  let x = seed | 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  return Array.from({ length: n }, (_, i) => {
    const f = new Uint8Array(1 + (next() % 1800)).map(() => next() & 0xff);
    for (let k = 0; k < Math.min(4, f.length); k++) f[k] = (i >>> (8 * k)) & 0xff;
    return f;
  });
}

interface Variant {
  readonly size: number;
  readonly eventIdx: boolean;
  readonly inOrder: boolean;
  /** Post every other TX frame through an indirect table. */
  readonly indirect: boolean;
  readonly start: number;
}

async function roundTrip(v: Variant, count: number): Promise<{ report: LoopbackDeviceReport; kicks: number; calls: number }> {
  const memory = new SharedArrayBuffer(0x20_0000);
  const control = new SharedArrayBuffer(16);
  const ctl = new Int32Array(control);
  const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(memory) }]);
  const queue = (base: number): PackedDriverQueue => {
    const l = PackedDriverQueue.layout(base, v.size);
    const q = new PackedDriverQueue({
      size: v.size,
      descRing: l.descRing,
      driverEvent: l.driverEvent,
      deviceEvent: l.deviceEvent,
      eventIdx: v.eventIdx,
      inOrder: v.inOrder,
      start: v.start,
    });
    q.init(mem);
    return q;
  };
  const txq = queue(TX_RING);
  const rxq = queue(RX_RING);
  const device = (q: PackedDriverQueue) => ({
    size: q.size,
    descRing: q.descRing,
    driverEvent: q.driverEvent,
    deviceEvent: q.deviceEvent,
    eventIdx: v.eventIdx,
    indirectDesc: v.indirect,
    inOrder: v.inOrder,
  });
  const data: LoopbackDeviceData = { memory, base: BASE, control, tx: device(txq), rx: device(rxq), start: v.start };
  const worker = new Worker(tsWorker(new URL('./fixtures/packedLoopbackDevice.ts', import.meta.url)), { eval: true, workerData: data });
  const reported = new Promise<LoopbackDeviceReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const frames = makeFrames(count, v.size * 7 + (v.inOrder ? 1 : 0));
  const txFree = Array.from({ length: v.size }, (_, i) => i);
  const rxFree = Array.from({ length: v.size }, (_, i) => i);
  const txArea = new Map<number, number>();
  const rxArea = new Map<number, number>();
  let sent = 0;
  let received = 0;
  let kicks = 0;
  const kick = (q: PackedDriverQueue): void => {
    if (!q.kickNeeded(mem)) return;
    kicks++;
    Atomics.add(ctl, KICK, 1);
    Atomics.notify(ctl, KICK);
  };
  const deadline = Date.now() + 30_000;
  try {
    while (received < count) {
      if (Date.now() > deadline) throw new Error(`round trip stalled: ${sent} sent, ${received} received`);
      const calls = Atomics.load(ctl, CALL);
      let progress = false;
      for (let u = txq.popUsed(mem); u !== undefined; u = txq.popUsed(mem)) {
        expect(u.len).toBe(0);
        txFree.push(txArea.get(u.id)!);
        txArea.delete(u.id);
        progress = true;
      }
      for (let u = rxq.popUsed(mem); u !== undefined; u = rxq.popUsed(mem)) {
        const want = frames[received]!;
        expect(u.len, `frame ${received}`).toBe(want.length);
        const area = rxArea.get(u.id)!;
        rxArea.delete(u.id);
        const got = mem.read(RX_BUF + AREA * area, u.len)!;
        if (Buffer.compare(got, want) !== 0) throw new Error(`frame ${received} (${want.length} bytes) arrived changed`);
        received++;
        rxFree.push(area);
        progress = true;
      }
      for (let area = rxFree.pop(); area !== undefined; area = rxFree.pop()) {
        const at = RX_BUF + AREA * area;
        const id = rxq.add(mem, [
          { addr: at, len: AREA / 2, writable: true },
          { addr: at + AREA / 2, len: AREA / 2, writable: true },
        ]);
        if (id === undefined) {
          rxFree.push(area);
          break;
        }
        rxArea.set(id, area);
      }
      rxq.publish(mem);
      kick(rxq);
      while (sent < count && txFree.length > 0) {
        const f = frames[sent]!;
        const area = txFree.pop()!;
        const at = TX_BUF + AREA * area;
        mem.write(at, f);
        // Cut the frame into 1..3 elements (an empty one included now and then).
        const cuts = [0, (sent * 7) % (f.length + 1), f.length].sort((a, b) => a - b);
        if (sent % 3 === 0) cuts.splice(1, 1);
        const parts: DriverBuffer[] = [];
        for (let k = 0; k + 1 < cuts.length; k++) parts.push({ addr: at + cuts[k]!, len: cuts[k + 1]! - cuts[k]!, writable: false });
        const id = txq.add(mem, parts, v.indirect && sent % 2 === 1 ? { indirect: { tableAddr: TX_TABLE + 64 * area } } : undefined);
        if (id === undefined) {
          txFree.push(area);
          break;
        }
        txArea.set(id, area);
        sent++;
        progress = true;
      }
      txq.publish(mem);
      kick(txq);
      if (progress) continue;
      // Nothing to do: ask for interrupts, re-check, then sleep until the device calls.
      if (txq.enableInterrupts(mem) || rxq.enableInterrupts(mem)) continue;
      Atomics.wait(ctl, CALL, calls, 20);
      txq.disableInterrupts(mem);
      rxq.disableInterrupts(mem);
    }
    // Every TX buffer comes back.
    const until = Date.now() + 10_000;
    while (txArea.size > 0 && Date.now() < until) {
      for (let u = txq.popUsed(mem); u !== undefined; u = txq.popUsed(mem)) txArea.delete(u.id);
      Atomics.wait(ctl, CALL, Atomics.load(ctl, CALL), 5);
    }
    expect(txArea.size).toBe(0);
    expect(txq.numFree).toBe(v.size);
  } finally {
    Atomics.store(ctl, STOP, 1);
    Atomics.notify(ctl, KICK);
  }
  const report = await reported;
  await worker.terminate();
  return { report, kicks, calls: Atomics.load(ctl, CALL) };
}

describe('PackedDriverQueue ⇄ PackedQueue over shared memory, device in a worker_thread', () => {
  const variants: Variant[] = [
    { size: 5, eventIdx: false, inOrder: false, indirect: false, start: 0 },
    { size: 7, eventIdx: true, inOrder: true, indirect: false, start: 3 },
    { size: 64, eventIdx: true, inOrder: false, indirect: true, start: 0 },
    { size: 256, eventIdx: false, inOrder: true, indirect: true, start: 255 },
  ];
  for (const v of variants) {
    it(`carries 3000 frames in order, byte for byte: size ${v.size}, EVENT_IDX ${v.eventIdx}, IN_ORDER ${v.inOrder}, indirect ${v.indirect}, start ${v.start}`, async () => {
      const { report, kicks, calls } = await roundTrip(v, 3000);
      expect(report).toMatchObject({ frames: 3000, malformed: 0, broken: [undefined, undefined] });
      // Notifications flowed both ways (the device slept and was woken, the driver was called).
      expect(kicks).toBeGreaterThan(0);
      expect(calls).toBeGreaterThan(0);
    }, 60_000);
  }
});
