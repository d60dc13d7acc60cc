import { testNetConfig } from '../testing/testNetConfig.ts';
import { describe, expect, it } from 'vitest';
import { featureBit, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED } from '../defs/virtio.ts';
import * as N from '../defs/virtio_net.ts';
import { GuestMemory } from '../memory/GuestMemory.ts';
import type { GuestMemoryLayout } from '../memory/GuestMemoryLayout.ts';
import { encodeNetCtrlCommand } from '../net/encodeNetCtrlCommand.ts';
import { DriverQueue } from '../queue/DriverQueue.ts';
import type { QueueState } from '../queue/QueueState.ts';
import type { ActivateContext } from './ActivateContext.ts';
import { FakeQueueHost } from './FakeQueueHost.ts';
import { NetDeviceBase } from './NetDeviceBase.ts';
import type { NetDeviceConfig } from './NetDeviceConfig.ts';
import type { QueueContext } from './QueueContext.ts';

const BASE = 0x10000;
const SIZE = 0x20000;
const LAYOUT: GuestMemoryLayout = { regions: [{ guestPhysAddr: BASE, size: SIZE, fd: -1, fdOffset: 0, hostAddr: 0n }] };
const CONFIG: NetDeviceConfig = testNetConfig({ id: 'nic7', mac: Uint8Array.of(0x52, 0x54, 0, 0, 0, 7), queueSize: 64 });
const CTRL_KICK = 42;
const CTRL_CALL = 43;

/** A backend that records the contexts it gets and the pairs it is told about. */
class Backend extends NetDeviceBase {
  readonly contexts: ActivateContext[] = [];
  readonly pairs: number[] = [];
  constructor(readonly host: FakeQueueHost) {
    super(CONFIG, (1n << 64n) - 1n);
  }
  protected override queueHost(): FakeQueueHost {
    return this.host;
  }
  protected override async activateDataPlane(ctx: ActivateContext): Promise<void> {
    this.contexts.push(ctx);
  }
  protected override async resetDataPlane(): Promise<QueueState[]> {
    return this.contexts.at(-1)!.queues.map(() => ({ nextAvail: 0, nextUsed: 0 }));
  }
  protected override async closeBackend(): Promise<void> {}
  protected override onActivePairsChanged(pairs: number): boolean {
    this.pairs.push(pairs);
    return true;
  }
}

interface Rig {
  dev: Backend;
  host: FakeQueueHost;
  mem: GuestMemory;
  drv: DriverQueue;
  ctrl: QueueContext;
  needsReset: [string, number | undefined][];
  /** Posts one RX-mode command (promisc off) with an ack byte; returns the ack address. */
  post(): number;
}

function rig(features = (d: NetDeviceBase): bigint => d.deviceFeatures & ~featureBit(VIRTIO_F_EVENT_IDX) & ~featureBit(VIRTIO_F_RING_PACKED)): Rig {
  const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(SIZE) }]);
  const host = new FakeQueueHost(mem);
  const dev = new Backend(host);
  expect(dev.setDriverFeatures(features(dev))).toBe(true);
  const l = DriverQueue.layout(BASE + 0x4000, 16);
  const drv = new DriverQueue({ size: 16, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: false });
  drv.init(mem);
  const ctrl: QueueContext = { index: 2, size: 16, ...l, kickFd: CTRL_KICK, callFd: CTRL_CALL };
  const needsReset: [string, number | undefined][] = [];
  dev.events.on('needs-reset', (why, q) => needsReset.push([why, q]));
  let next = BASE + 0x8000;
  const post = (): number => {
    const cmd = encodeNetCtrlCommand({ kind: 'rx-mode', mode: 'promisc', on: false });
    mem.write(next, cmd);
    const ack = next + 0x100;
    drv.add(mem, [
      { addr: next, len: cmd.length, writable: false },
      { addr: ack, len: 1, writable: true },
    ]);
    drv.publish(mem);
    next += 0x200;
    return ack;
  };
  return { dev, host, mem, drv, ctrl, needsReset, post };
}

function dataQueue(index: number): QueueContext {
  const l = DriverQueue.layout(BASE + 0x1000 * (index + 1) + 0x8000, 16);
  return { index, size: 16, ...l, kickFd: 10 + index, callFd: 20 + index };
}

function ctxOf(r: Rig): ActivateContext {
  return { features: r.dev.ackedFeatures, memory: LAYOUT, queues: [dataQueue(0), dataQueue(1), r.ctrl] };
}

describe('ControlQueue (the device core serves the control queue for every backend)', () => {
  it('hands the backend its data queues only and watches the control kick itself', async () => {
    const r = rig();
    await r.dev.activate(ctxOf(r));
    expect(r.dev.contexts[0]!.queues.map((q) => q.index)).toEqual([0, 1]);
    expect(r.host.watched).toEqual([CTRL_KICK]);
  });

  it('serves a kicked command: ack OK, one call signal, the stats row counts it', async () => {
    const r = rig();
    await r.dev.activate(ctxOf(r));
    const ack = r.post();
    expect(r.host.kick(CTRL_KICK)).toBe(true);
    expect(r.mem.read(ack, 1)![0]).toBe(N.VIRTIO_NET_OK);
    expect(r.drv.popUsed(r.mem)).toMatchObject({ len: 1 });
    expect(r.host.signals).toEqual([CTRL_CALL]);
    expect(r.dev.stats()[2]).toMatchObject({ index: 2, packets: 1, malformed: 0 });
  });

  it('serves at start what the driver posted before the activation finished', async () => {
    const r = rig();
    const ack = r.post();
    await r.dev.activate(ctxOf(r));
    expect(r.mem.read(ack, 1)![0]).toBe(N.VIRTIO_NET_OK);
    expect(r.host.signals).toEqual([CTRL_CALL]);
  });

  it('checks the ring at start: a ring the mapping does not hold is NEEDS_RESET at activation, once, naming the NIC', async () => {
    // The layout passes validateActivateContext; the memory the host maps ends before the descriptor table.
    const small = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x6000) }]);
    const host = new FakeQueueHost(small);
    const dev = new Backend(host);
    expect(dev.setDriverFeatures(dev.deviceFeatures & ~featureBit(VIRTIO_F_RING_PACKED))).toBe(true); // a split-ring driver
    const seen: [string, number | undefined][] = [];
    dev.events.on('needs-reset', (why, q) => seen.push([why, q]));
    const l = DriverQueue.layout(BASE + 0x7000, 16);
    await dev.activate({
      features: dev.ackedFeatures,
      memory: LAYOUT,
      queues: [dataQueue(0), dataQueue(1), { index: 2, size: 16, ...l, kickFd: CTRL_KICK, callFd: CTRL_CALL }],
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toMatch(/^nic7: queue 2: /);
    expect(seen[0]![1]).toBe(2);
    host.kick(CTRL_KICK);
    expect(seen).toHaveLength(1);
    expect(host.signals).toEqual([]);
  });

  it('reports a corrupted ring once, with the NIC id, however often the guest kicks', async () => {
    const r = rig();
    await r.dev.activate(ctxOf(r));
    // avail->idx jumps further than the queue size: ring-level corruption.
    r.mem.write(r.ctrl.availRing + 2, Uint8Array.of(100, 0));
    for (let i = 0; i < 3; i++) r.host.kick(CTRL_KICK);
    expect(r.needsReset).toHaveLength(1);
    expect(r.needsReset[0]![0]).toMatch(/^nic7: queue 2: /);
    expect(r.needsReset[0]![1]).toBe(2);
    expect(r.host.signals).toEqual([]);
  });

  it('stops watching on reset and returns the control ring state after the data queues', async () => {
    const r = rig();
    await r.dev.activate(ctxOf(r));
    r.post();
    r.host.kick(CTRL_KICK);
    const states = await r.dev.reset();
    expect(states).toEqual([
      { nextAvail: 0, nextUsed: 0 },
      { nextAvail: 0, nextUsed: 0 },
      { nextAvail: 1, nextUsed: 1 },
    ]);
    expect(r.host.watched).toEqual([]);
    expect(r.host.kick(CTRL_KICK)).toBe(false);
    // The row stays where the control queue was.
    expect(r.dev.stats()[2]).toMatchObject({ packets: 1 });
  });

  it('stops watching when the backend fails to start', async () => {
    const r = rig();
    r.dev['activateDataPlane'] = async () => {
      throw new Error('backend refused');
    };
    await expect(r.dev.activate(ctxOf(r))).rejects.toThrow('backend refused');
    expect(r.host.watched).toEqual([]);
  });
});
