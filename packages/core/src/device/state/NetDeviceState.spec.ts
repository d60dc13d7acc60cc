import { describe, expect, it } from 'vitest';
import { featureBit, VIRTIO_F_EVENT_IDX, VIRTIO_F_VERSION_1 } from '../../defs/virtio.ts';
import * as N from '../../defs/virtio_net.ts';
import { VnicError } from '../../errors/VnicError.ts';
import type { GuestMemoryLayout } from '../../memory/GuestMemoryLayout.ts';
import { decodeVirtioNetConfig } from '../../net/decodeVirtioNetConfig.ts';
import { DriverQueue } from '../../queue/DriverQueue.ts';
import type { QueueState } from '../../queue/QueueState.ts';
import type { ActivateContext } from '../ActivateContext.ts';
import { FakeQueueHost } from '../FakeQueueHost.ts';
import { NetDeviceBase } from '../NetDeviceBase.ts';
import type { NetDeviceConfig } from '../NetDeviceConfig.ts';
import type { QueueStats } from '../QueueStats.ts';
import { testNetConfig } from '../../testing/testNetConfig.ts';
import type { NetDeviceState } from './NetDeviceState.ts';

const MAC = [0x52, 0x54, 0x00, 0xab, 0xcd, 0x01];
const BASE = 0x20000;
const LAYOUT: GuestMemoryLayout = { regions: [{ guestPhysAddr: BASE, size: 0x10000, fd: -1, fdOffset: 0, hostAddr: 0n }] };
const bits = (...n: number[]): bigint => n.reduce((a, b) => a | featureBit(b), 0n);
/** What the guest of these specs negotiates. */
const ACKED = bits(
  VIRTIO_F_VERSION_1,
  VIRTIO_F_EVENT_IDX,
  N.VIRTIO_NET_F_MAC,
  N.VIRTIO_NET_F_STATUS,
  N.VIRTIO_NET_F_CTRL_VQ,
  N.VIRTIO_NET_F_CTRL_RX,
  N.VIRTIO_NET_F_CTRL_VLAN,
  N.VIRTIO_NET_F_MQ,
  N.VIRTIO_NET_F_GUEST_ANNOUNCE,
  N.VIRTIO_NET_F_GUEST_CSUM,
  N.VIRTIO_NET_F_GUEST_TSO4,
  N.VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
);

function cfg(over: Partial<NetDeviceConfig> = {}): NetDeviceConfig {
  return testNetConfig({ id: 'st0', backend: 'state-test', mac: Uint8Array.from(MAC), queuePairs: 2, queueSize: 128, mtu: 1500, ...over });
}

/** A data plane that counts frames and stops each ring at a position the spec chooses. */
class StateDevice extends NetDeviceBase {
  readonly starts: ActivateContext[] = [];
  stopAt = new Map<number, QueueState>();
  failStart: Error | undefined;
  packets = 0;
  readonly host = new FakeQueueHost();
  constructor(config = cfg(), backend = (1n << 64n) - 1n) {
    super(config, backend);
  }
  protected override queueHost(): FakeQueueHost {
    return this.host;
  }
  protected override activateDataPlane(ctx: ActivateContext): Promise<void> {
    if (this.failStart !== undefined) return Promise.reject(this.failStart);
    this.starts.push(ctx);
    return Promise.resolve();
  }
  protected override resetDataPlane(): Promise<QueueState[]> {
    const ctx = this.starts.at(-1)!;
    return Promise.resolve(ctx.queues.map((q) => this.stopAt.get(q.index) ?? q.state ?? { nextAvail: 0, nextUsed: 0 }));
  }
  protected override closeBackend(): Promise<void> {
    return Promise.resolve();
  }
  /** A txWaits count to report on every data queue (undefined: the field is absent, as for a kernel data plane). */
  txWaits: number | undefined;
  protected override queueStats(index: number): QueueStats {
    const row = { index, packets: this.packets, bytes: 0, drops: 0, malformed: 0, noBuffer: 0, filtered: 0 };
    return this.txWaits === undefined ? row : { ...row, txWaits: this.txWaits };
  }
}

function ring(index: number, size = 64): { index: number; size: number; descTable: number; availRing: number; usedRing: number } {
  return { index, size, ...DriverQueue.layout(BASE + 0x2000 * index, size) };
}

/** Activates `dev` with pairs 0 and 1 and the control queue (index 4). */
async function running(dev = new StateDevice()): Promise<StateDevice> {
  expect(dev.setDriverFeatures(ACKED)).toBe(true);
  await dev.activate({
    features: ACKED,
    memory: LAYOUT,
    queues: [0, 1, 2, 3, 4].map((i) => ({ ...ring(i), kickFd: 100 + i, callFd: 200 + i })),
  });
  return dev;
}

const fds = { memory: LAYOUT, queues: [0, 1, 2, 3, 4].map((i) => ({ index: i, kickFd: 300 + i, callFd: 400 + i })) };

async function refusal(p: Promise<unknown>): Promise<VnicError> {
  const e: unknown = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(VnicError.is(e)).toBe(true);
  return e as VnicError;
}

/** A hand-written saved state: what a running device with a guest that set filters looks like. */
function written(over: Record<string, unknown> = {}): NetDeviceState {
  return {
    format: 'vnic.net-device-state',
    version: 1,
    id: 'st0',
    backend: 'elsewhere',
    features: { offered: `0x${ACKED.toString(16)}`, acked: `0x${ACKED.toString(16)}` },
    config: { mac: MAC, mtu: 1500, maxVirtqueuePairs: 2, queueMaxSize: 128, numQueues: 5 },
    link: { up: true, announce: false },
    ctrl: {
      promisc: false,
      allmulti: true,
      alluni: false,
      nomulti: false,
      nouni: false,
      nobcast: false,
      mac: [0x52, 0x54, 0x00, 0xab, 0xcd, 0x99],
      unicast: [[0x02, 0, 0, 0, 0, 7]],
      multicast: [[0x01, 0, 0x5e, 0, 0, 1]],
      uniOverflow: false,
      multiOverflow: false,
      vlans: [5, 100, 4095],
      activePairs: 2,
      guestOffloads: `0x${bits(N.VIRTIO_NET_F_GUEST_CSUM).toString(16)}`,
    },
    activated: true,
    queues: [0, 1, 2, 3, 4].map((i) => ({ ...ring(i), nextAvail: 1000 + i, nextUsed: 990 + i })),
    counters: {
      queues: [0, 1, 2, 3, 4].map((i) => ({ index: i, packets: 10 * (i + 1), bytes: 0, drops: 0, malformed: i === 4 ? 3 : 0, noBuffer: 0, filtered: 0 })),
      ctrl: { commands: 9, ok: 7, err: 2, malformed: 1 },
    },
    ...over,
  };
}

describe('NetDeviceState: saveState', () => {
  it('quiesces a running device and carries features, rings where they stopped, link and counters as plain JSON', async () => {
    const dev = await running();
    dev.stopAt.set(0, { nextAvail: 17, nextUsed: 12 }).set(3, { nextAvail: 65535, nextUsed: 65530 });
    dev.packets = 4;
    dev.setLinkUp(false);
    const state = await dev.saveState();
    expect(dev.quiesced).toBe(true);
    expect(dev.activated).toBe(true); // the guest still sees DRIVER_OK
    const json = JSON.parse(JSON.stringify(state)) as NetDeviceState;
    expect(json).toEqual(state);
    expect(json.features.acked).toBe(`0x${ACKED.toString(16)}`);
    expect(json.activated).toBe(true);
    expect(json.link).toEqual({ up: false, announce: false });
    expect(json.config).toEqual({ mac: MAC, mtu: 1500, maxVirtqueuePairs: 2, queueMaxSize: 128, numQueues: 5 });
    expect(json.queues.map((q) => [q.index, q.descTable, q.nextAvail, q.nextUsed])).toEqual([
      [0, ring(0).descTable, 17, 12],
      [1, ring(1).descTable, 0, 0],
      [2, ring(2).descTable, 0, 0],
      [3, ring(3).descTable, 65535, 65530],
      [4, ring(4).descTable, 0, 0], // the control queue, stopped by the core (nothing posted)
    ]);
    expect(json.counters.queues[1]!.packets).toBe(4);
    expect(json.ctrl.promisc).toBe(true); // reset value: the guest sent no command
    expect(json.ctrl.vlans).toEqual([]); // CTRL_VLAN acked: nothing accepted until added
    await dev.close();
  });

  it('resume() restarts the data plane on the same rings from where they stopped', async () => {
    const dev = await running();
    dev.stopAt.set(1, { nextAvail: 300, nextUsed: 299 });
    await dev.saveState();
    await dev.resume();
    expect(dev.quiesced).toBe(false);
    const again = dev.starts.at(-1)!;
    expect(again.queues.map((q) => [q.index, q.kickFd, q.state])).toEqual([
      [0, 100, { nextAvail: 0, nextUsed: 0 }],
      [1, 101, { nextAvail: 300, nextUsed: 299 }],
      [2, 102, { nextAvail: 0, nextUsed: 0 }],
      [3, 103, { nextAvail: 0, nextUsed: 0 }],
    ]);
    expect(dev.host.watched).toEqual([104]); // the control queue watched again
    await dev.close();
  });

  it('carries the wrap counters of packed rings with their positions, through JSON and back into a new device activation', async () => {
    const dev = await running();
    dev.stopAt
      .set(0, { nextAvail: 5, nextUsed: 3, availWrap: false, usedWrap: true })
      .set(2, { nextAvail: 127, nextUsed: 0, availWrap: true, usedWrap: false });
    const json = JSON.parse(JSON.stringify(await dev.saveState())) as NetDeviceState;
    expect(json.queues.slice(0, 3).map((q) => [q.nextAvail, q.nextUsed, q.availWrap, q.usedWrap])).toEqual([
      [5, 3, false, true],
      [0, 0, undefined, undefined], // a split state stays without wrap counters
      [127, 0, true, false],
    ]);
    await dev.close();
    const next = new StateDevice();
    await next.restoreState({ ...json, queues: json.queues.map((q) => ({ ...q, size: 128 })) }, fds);
    expect(next.starts[0]!.queues.slice(0, 3).map((q) => q.state)).toEqual([
      { nextAvail: 5, nextUsed: 3, availWrap: false, usedWrap: true },
      { nextAvail: 0, nextUsed: 0 },
      { nextAvail: 127, nextUsed: 0, availWrap: true, usedWrap: false },
    ]);
    const bad = await refusal(
      new StateDevice().restoreState({ ...json, queues: [{ ...json.queues[0]!, availWrap: 1 as unknown as boolean }, ...json.queues.slice(1)] }, fds),
    );
    expect(bad.message).toContain('state.queues[0].availWrap');
    await next.close();
  });

  it('carries a receive queue backlog (frames taken in, no guest buffer yet) as hex, in order, into the next activation; refuses a bad one by field', async () => {
    const dev = await running();
    const f1 = Uint8Array.from({ length: 80 }, (_, i) => (i * 7) & 0xff);
    const f2 = Uint8Array.from({ length: 26 }, (_, i) => 255 - i);
    dev.stopAt.set(0, { nextAvail: 9, nextUsed: 4, rxBacklog: [f1, f2] });
    const json = JSON.parse(JSON.stringify(await dev.saveState())) as NetDeviceState;
    expect(json.queues[0]!.rxBacklog).toEqual([Buffer.from(f1).toString('hex'), Buffer.from(f2).toString('hex')]);
    expect(json.queues[1]!.rxBacklog).toBeUndefined();
    await dev.close();
    const next = new StateDevice();
    const warnings: string[] = [];
    next.events.on('warning', (m) => warnings.push(m));
    await next.restoreState({ ...json, queues: json.queues.map((q) => ({ ...q, size: 128 })) }, fds);
    expect(next.starts[0]!.queues[0]!.state).toEqual({ nextAvail: 9, nextUsed: 4, rxBacklog: [f1, f2] });
    // This data plane does not take a backlog (takesRxBacklog false): the loss is a warning, not silent.
    expect(warnings).toEqual(['st0: 2 received frame(s) the previous data plane held for the guest are dropped: the state-test backend cannot deliver them']);
    expect(next.starts[0]!.queues[1]!.state).toEqual({ nextAvail: 0, nextUsed: 0 });
    await next.close();
    const q0 = json.queues[0]!;
    for (const [rxBacklog, why] of [
      ['00', 'not an array'],
      [['0g'], '[0] is not a frame'],
      [['abc'], '[0] is not a frame'],
      [['AB'], '[0] is not a frame'],
      [['00'.repeat(65_563)], '[0] is not a frame'],
      [Array.from({ length: 65 }, () => '00'), 'more than the queue'],
    ] as const) {
      const bad = await refusal(
        new StateDevice().restoreState({ ...json, queues: [{ ...q0, rxBacklog: rxBacklog as unknown as string[] }, ...json.queues.slice(1)] }, fds),
      );
      expect(bad.message).toContain(`state.queues[0].rxBacklog`);
      expect(bad.message).toContain(why);
    }
  });

  it('a device the driver never started saves as not activated, without rings', async () => {
    const dev = new StateDevice();
    const s = await dev.saveState();
    expect(s.activated).toBe(false);
    expect(s.queues).toEqual([]);
    expect(s.features.acked).toBe('0x0');
    expect(dev.quiesced).toBe(false);
  });
});

describe('NetDeviceState: restoreState', () => {
  it('a new device takes the guest features, control state, link and counters and starts the saved rings with the new eventfds', async () => {
    const dev = new StateDevice();
    dev.packets = 5;
    await dev.restoreState(written(), fds);
    expect(dev.ackedFeatures).toBe(ACKED);
    expect(dev.activated).toBe(true);
    const start = dev.starts[0]!;
    expect(start.features).toBe(ACKED);
    expect(start.queues.map((q) => [q.index, q.kickFd, q.callFd, q.availRing, q.state])).toEqual(
      [0, 1, 2, 3].map((i) => [i, 300 + i, 400 + i, ring(i).availRing, { nextAvail: 1000 + i, nextUsed: 990 + i }]),
    );
    const c = dev.ctrlState;
    expect([c.promisc, c.allmulti, c.activePairs, c.guestOffloads]).toEqual([false, true, 2, bits(N.VIRTIO_NET_F_GUEST_CSUM)]);
    expect([...c.mac]).toEqual([0x52, 0x54, 0x00, 0xab, 0xcd, 0x99]);
    expect(c.unicast.map((m) => [...m])).toEqual([[0x02, 0, 0, 0, 0, 7]]);
    expect(c.vlans[0]).toBe(1 << 5);
    expect(c.vlans[3]).toBe(1 << 4); // vid 100
    expect(c.vlans[127]).toBe(0x80000000); // vid 4095
    expect(c.vlans[1]).toBe(0);
    // The default MAC the guest set shows in config space, and the guest is asked to announce itself.
    const space = decodeVirtioNetConfig(dev.readConfig(0, dev.configSize))!;
    expect([...space.mac]).toEqual([0x52, 0x54, 0x00, 0xab, 0xcd, 0x99]);
    expect(space.status & N.VIRTIO_NET_S_ANNOUNCE).toBe(N.VIRTIO_NET_S_ANNOUNCE);
    // Counters continue: saved rows plus what this device counted.
    const rows = dev.stats();
    expect(rows[1]!.packets).toBe(20 + 5);
    expect(rows[4]!.packets).toBe(9); // control queue: the saved commands
    expect(rows[4]!.malformed).toBe(3);
    expect(dev.ctrlCounters).toEqual({ commands: 9, ok: 7, err: 2, malformed: 1 });
    // The control queue resumes from its saved position.
    const again = await dev.saveState();
    expect(again.queues.at(-1)).toMatchObject({ index: 4, nextAvail: 1004, nextUsed: 994 });
    // A state written before coalescing existed (no ctrl.notfCoal) restores with everything 0.
    const off = { maxPackets: 0, maxUsecs: 0 };
    expect(again.ctrl).toEqual({ ...written().ctrl, notfCoal: { tx: off, rx: off, vqs: [] } });
    await dev.close();
  });

  it('txWaits continues where the saved device counted it (and stays absent where no side counts it)', async () => {
    const saved = written();
    const rows = saved.counters.queues.map((r) => (r.index === 1 ? { ...r, txWaits: 7 } : r));
    const dev = new StateDevice();
    dev.txWaits = 2;
    await dev.restoreState({ ...saved, counters: { ...saved.counters, queues: rows } }, fds);
    expect(dev.stats()[1]!.txWaits).toBe(7 + 2);
    expect(dev.stats()[3]!.txWaits).toBe(2);
    await dev.close();
    const none = new StateDevice();
    await none.restoreState(written(), fds);
    expect('txWaits' in none.stats()[1]!).toBe(false);
    await none.close();
    const bad = { ...saved, counters: { ...saved.counters, queues: saved.counters.queues.map((r) => ({ ...r, txWaits: -1 })) } };
    expect((await refusal(new StateDevice().restoreState(bad, fds))).message).toContain('state.counters.queues[0].txWaits');
  });

  it('carries the coalescing parameters (ctrl.notfCoal) and refuses a bad one by field', async () => {
    const notfCoal = { tx: { maxPackets: 8, maxUsecs: 50 }, rx: { maxPackets: 32, maxUsecs: 100 }, vqs: [{ vqn: 3, maxPackets: 4, maxUsecs: 7 }] };
    const dev = new StateDevice();
    await dev.restoreState(written({ ctrl: { ...written().ctrl, notfCoal } }), fds);
    expect(dev.ctrlState.notfCoal).toEqual(notfCoal);
    expect((await dev.saveState()).ctrl.notfCoal).toEqual(notfCoal);
    await dev.close();
    const bad = { ...notfCoal, vqs: [{ vqn: 4, maxPackets: 1, maxUsecs: 1 }] }; // 2 pairs: vq 4 is the control queue
    const e = await refusal(new StateDevice().restoreState(written({ ctrl: { ...written().ctrl, notfCoal: bad } }), fds));
    expect(e.message).toContain('state.ctrl.notfCoal.vqs[0].vqn is 4');
    const slow = { ...notfCoal, rx: { maxPackets: 1, maxUsecs: 2_000_000 } };
    const e2 = await refusal(new StateDevice().restoreState(written({ ctrl: { ...written().ctrl, notfCoal: slow } }), fds));
    expect(e2.message).toContain('state.ctrl.notfCoal.rx.maxUsecs');
  });

  it('without GUEST_ANNOUNCE negotiated no announce is raised; a saved link-down stays down', async () => {
    const acked = ACKED & ~bits(N.VIRTIO_NET_F_GUEST_ANNOUNCE);
    const hex = `0x${acked.toString(16)}`;
    const dev = new StateDevice();
    await dev.restoreState(written({ features: { offered: hex, acked: hex }, link: { up: false, announce: false } }), fds);
    const space = decodeVirtioNetConfig(dev.readConfig(0, dev.configSize))!;
    expect(space.status & N.VIRTIO_NET_S_ANNOUNCE).toBe(0);
    expect(dev.linkUp).toBe(false);
    await dev.close();
  });

  it('refuses another version, naming it', async () => {
    const e = await refusal(new StateDevice().restoreState(written({ version: 2 }), fds));
    expect(e.kind).toBe('state-refused');
    expect(e.message).toContain('state.version is 2');
  });

  it('refuses features the new device cannot offer, by name', async () => {
    const dev = new StateDevice(cfg(), ~bits(N.VIRTIO_NET_F_GUEST_TSO4));
    const e = await refusal(dev.restoreState(written(), fds));
    expect(e.kind).toBe('state-refused');
    expect(e.message).toContain('features.acked');
    expect(e.message).toContain('VIRTIO_NET_F_GUEST_TSO4');
    expect(e.message).not.toContain('VIRTIO_NET_F_GUEST_CSUM');
  });

  it('refuses a device with another queue pair count, MTU or MAC', async () => {
    const pairs = await refusal(new StateDevice(cfg({ queuePairs: 1 })).restoreState(written(), fds));
    expect(pairs.message).toContain('config.maxVirtqueuePairs: the saved device had 2 queue pair(s), this state-test device offers 1');
    const mtu = await refusal(new StateDevice(cfg({ mtu: 9000 })).restoreState(written(), fds));
    expect(mtu.message).toContain('config.mtu');
    const mac = await refusal(new StateDevice(cfg({ mac: Uint8Array.of(2, 0, 0, 0, 0, 1) })).restoreState(written(), fds));
    expect(mac.message).toContain('config.mac');
  });

  it('refuses a malformed state naming the field, and a running state without eventfds', async () => {
    const bad = written();
    const vlans = await refusal(new StateDevice().restoreState({ ...bad, ctrl: { ...bad.ctrl, vlans: [4096] } }, fds));
    expect(vlans.message).toContain('state.ctrl.vlans[0] is 4096');
    const idx = await refusal(new StateDevice().restoreState({ ...bad, queues: [{ ...bad.queues[0]!, nextAvail: 70000 }] }, fds));
    expect(idx.message).toContain('state.queues[0].nextAvail');
    const noCtx = await refusal(new StateDevice().restoreState(written()));
    expect(noCtx.message).toContain('RestoreContext');
    const missingFd = await refusal(new StateDevice().restoreState(written(), { memory: LAYOUT, queues: fds.queues.slice(0, 4) }));
    expect(missingFd.message).toContain('queues[index 4]');
  });

  it('a refused or failed restore leaves the device as built: a guest can still negotiate and start it', async () => {
    const dev = new StateDevice();
    await refusal(dev.restoreState(written({ version: 0 }), fds));
    dev.failStart = new Error('tap went away');
    await expect(dev.restoreState(written(), fds)).rejects.toThrow('tap went away');
    expect(dev.ackedFeatures).toBe(0n);
    expect(dev.activated).toBe(false);
    expect(dev.ctrlCounters).toEqual({ commands: 0, ok: 0, err: 0, malformed: 0 });
    expect(dev.stats()[1]!.packets).toBe(0);
    expect(dev.host.watched).toEqual([]);
    dev.failStart = undefined;
    await running(dev);
    expect(dev.ctrlState.promisc).toBe(true);
    await dev.close();
  });

  it('refuses restoring into a device a driver already uses', async () => {
    const dev = await running();
    const e = await refusal(dev.restoreState(written(), fds));
    expect(e.kind).toBe('invalid-state');
    await dev.close();
  });
});
