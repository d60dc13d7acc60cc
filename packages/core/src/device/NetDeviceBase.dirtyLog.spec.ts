import { describe, expect, it } from 'vitest';
import { featureBit, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED } from '../defs/virtio.ts';
import { DirtyLog } from '../dirtylog/DirtyLog.ts';
import { VnicError } from '../errors/VnicError.ts';
import { GuestMemory } from '../memory/GuestMemory.ts';
import type { GuestMemoryLayout } from '../memory/GuestMemoryLayout.ts';
import { encodeNetCtrlCommand } from '../net/encodeNetCtrlCommand.ts';
import { DriverQueue } from '../queue/DriverQueue.ts';
import type { QueueState } from '../queue/QueueState.ts';
import { testNetConfig } from '../testing/testNetConfig.ts';
import type { ActivateContext } from './ActivateContext.ts';
import { FakeQueueHost } from './FakeQueueHost.ts';
import { NetDeviceBase } from './NetDeviceBase.ts';

const BASE = 0x10000;
const SIZE = 0x20000;
const END = BASE + SIZE;
const LAYOUT: GuestMemoryLayout = { regions: [{ guestPhysAddr: BASE, size: SIZE, fd: -1, fdOffset: 0, hostAddr: 0n }] };
const CTRL_KICK = 42;

/** A backend that can log (`logs`: every log it was handed, undefined for a stop) or, with `canLog` false, cannot. */
class Backend extends NetDeviceBase {
  readonly logs: (DirtyLog | undefined)[] = [];
  readonly activatedWith: (DirtyLog | undefined)[] = [];
  constructor(
    readonly host: FakeQueueHost,
    readonly canLog: boolean,
  ) {
    super(testNetConfig({ id: 'nic3', queueSize: 16 }), (1n << 64n) - 1n);
  }
  protected override queueHost(): FakeQueueHost {
    return this.host;
  }
  protected override async activateDataPlane(): Promise<void> {
    this.activatedWith.push(this.dirtyLog);
  }
  protected override async resetDataPlane(): Promise<QueueState[]> {
    return [];
  }
  protected override async closeBackend(): Promise<void> {}
  protected override setDataPlaneDirtyLog(log: DirtyLog | undefined): Promise<void> {
    if (!this.canLog) return super.setDataPlaneDirtyLog(log);
    this.logs.push(log);
    return Promise.resolve();
  }
}

function rig(canLog = true) {
  const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(SIZE) }]);
  const host = new FakeQueueHost(mem);
  const dev = new Backend(host, canLog);
  expect(dev.setDriverFeatures(dev.deviceFeatures & ~featureBit(VIRTIO_F_EVENT_IDX) & ~featureBit(VIRTIO_F_RING_PACKED))).toBe(true);
  const l = DriverQueue.layout(BASE + 0x4000, 16);
  const drv = new DriverQueue({ size: 16, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: false });
  drv.init(mem);
  const ctx: ActivateContext = {
    features: dev.ackedFeatures,
    memory: LAYOUT,
    queues: [{ index: dev.ctrlQueueIndex!, size: 16, ...l, kickFd: CTRL_KICK, callFd: 43 }],
  };
  return { mem, host, dev, drv, ctx, l };
}

async function rejection(p: Promise<unknown>): Promise<VnicError> {
  try {
    await p;
  } catch (e) {
    if (VnicError.is(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('NetDeviceBase dirty log', () => {
  it('refuses with `unsupported` naming the backend when the backend cannot log, and stays not logging', async () => {
    const { dev } = rig(false);
    const err = await rejection(dev.startDirtyLog(DirtyLog.allocate(END)));
    expect(err.kind).toBe('unsupported');
    expect(err.message).toMatch(/nic3: the test backend cannot log .* cannot be live-migrated/);
    expect(dev.dirtyLog).toBeUndefined();
    await dev.stopDirtyLog();
  });

  it('hands the log to the backend, keeps it across reset/activate, and the same log twice is a no-op', async () => {
    const { dev, ctx } = rig();
    const log = DirtyLog.allocate(END);
    await dev.startDirtyLog(log);
    await dev.startDirtyLog(log);
    expect(dev.logs).toEqual([log]);
    await dev.activate(ctx);
    await dev.reset();
    expect(dev.setDriverFeatures(ctx.features)).toBe(true);
    await dev.activate(ctx);
    expect(dev.activatedWith).toEqual([log, log]);
    await dev.stopDirtyLog();
    expect(dev.logs).toEqual([log, undefined]);
    expect(dev.dirtyLog).toBeUndefined();
    const other = await rejection((await dev.startDirtyLog(log), dev.startDirtyLog(DirtyLog.allocate(END))));
    expect(other.kind).toBe('invalid-state');
  });

  it('refuses a log that does not cover the running guest memory (invalid-argument naming both ends)', async () => {
    const { dev, ctx } = rig();
    await dev.activate(ctx);
    const err = await rejection(dev.startDirtyLog(new DirtyLog({ bytes: new Uint8Array(new SharedArrayBuffer(1)) })));
    expect(err.kind).toBe('invalid-argument');
    expect(err.message).toMatch(/covers guest-physical \[0, 0x8000\) but guest memory ends at 0x30000/);
    expect(dev.logs).toEqual([]);
  });

  it('the control queue marks the ack byte and the used ring pages while logging, nothing after stop', async () => {
    const { dev, ctx, mem, drv, host, l } = rig();
    await dev.activate(ctx);
    const log = DirtyLog.allocate(END);
    await dev.startDirtyLog(log);
    const post = (at: number): void => {
      const cmd = encodeNetCtrlCommand({ kind: 'rx-mode', mode: 'promisc', on: false });
      mem.write(at, cmd);
      mem.write(at + 0x2fff, Uint8Array.of(0xee)); // the ack (VIRTIO_NET_OK = 0) changes this byte
      drv.add(mem, [
        { addr: at, len: cmd.length, writable: false },
        { addr: at + 0x2fff, len: 1, writable: true }, // the ack: on the page after the command
      ]);
      drv.publish(mem);
    };
    post(BASE + 0x8000);
    const before = mem.read(BASE, SIZE)!;
    expect(host.kick(CTRL_KICK)).toBe(true);
    const after = mem.read(BASE, SIZE)!;
    const changed = new Set<number>();
    for (let i = 0; i < SIZE; i++) if (before[i] !== after[i]) changed.add(Math.floor((BASE + i) / 0x1000));
    expect([...changed].sort((a, b) => a - b)).toEqual([Math.floor((l.usedRing + 2) / 0x1000), Math.floor((BASE + 0x8000 + 0x2fff) / 0x1000)]);
    for (const p of changed) expect(log.isDirty(p)).toBe(true);
    await dev.stopDirtyLog();
    log.clear();
    post(BASE + 0xa000);
    expect(host.kick(CTRL_KICK)).toBe(true);
    expect(log.countDirty()).toBe(0);
  });
});
