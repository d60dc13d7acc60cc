import { beforeEach, describe, expect, it } from 'vitest';
import { featureBit, hasFeature, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_VERSION_1 } from '../defs/virtio.ts';
import * as N from '../defs/virtio_net.ts';
import { VnicError } from '../errors/VnicError.ts';
import type { GuestMemoryLayout } from '../memory/GuestMemoryLayout.ts';
import { decodeVirtioNetConfig } from '../net/decodeVirtioNetConfig.ts';
import { CtrlRig } from '../net/CtrlRig.ts';
import { DriverQueue } from '../queue/DriverQueue.ts';
import type { QueueState } from '../queue/QueueState.ts';
import type { ActivateContext } from './ActivateContext.ts';
import { NetDeviceBase } from './NetDeviceBase.ts';
import type { NetDeviceConfig } from './NetDeviceConfig.ts';
import type { QueueContext } from './QueueContext.ts';
import { RecordingNetDevice } from '../testing/RecordingNetDevice.ts';
import { testNetConfig } from '../testing/testNetConfig.ts';

const ALL = (1n << 64n) - 1n;
const bits = (...n: number[]): bigint => n.reduce((a, b) => a | featureBit(b), 0n);
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);

function config(over: Partial<NetDeviceConfig> = {}): NetDeviceConfig {
  return testNetConfig({ mac: MAC, queuePairs: 4, mtu: 1500, ...over });
}

function withoutMtu(c: NetDeviceConfig): NetDeviceConfig {
  const { mtu: _mtu, ...rest } = c;
  return rest;
}

/** A backend that records what the base asks of it, and each control-queue hook it runs. */
class TestDevice extends RecordingNetDevice {
  readonly pairs: number[] = [];
  readonly offloads: bigint[] = [];
  readonly macs: Uint8Array[] = [];
  rxFilterChanges = 0;
  hookResult: boolean | Error | undefined;
  override resetStates: QueueState[] = [{ nextAvail: 7, nextUsed: 5 }];

  constructor(cfg: NetDeviceConfig = config(), backendFeatures: bigint = ALL) {
    super(cfg, backendFeatures);
  }

  protected override onActivePairsChanged(pairs: number): boolean | void {
    this.pairs.push(pairs);
    return this.hook();
  }
  protected override onGuestOffloadsChanged(offloads: bigint): boolean | void {
    this.offloads.push(offloads);
    return this.hook();
  }
  protected override onRxFilterChanged(): boolean | void {
    this.rxFilterChanges++;
    return this.hook();
  }
  protected override onMacChanged(mac: Uint8Array): boolean | void {
    this.macs.push(mac);
    return this.hook();
  }
  private hook(): boolean | void {
    if (this.hookResult instanceof Error) throw this.hookResult;
    return this.hookResult;
  }
}

const MEM_BASE = 0x10000;
const MEM_SIZE = 0x10000;
const LAYOUT: GuestMemoryLayout = { regions: [{ guestPhysAddr: MEM_BASE, size: MEM_SIZE, fd: -1, fdOffset: 0, hostAddr: 0n }] };

function queueCtx(index: number, over: Partial<QueueContext> = {}): QueueContext {
  const l = DriverQueue.layout(MEM_BASE + 0x1000 * index, 64);
  return { index, size: 64, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, kickFd: 10 + index, callFd: 20 + index, ...over };
}

function ctxFor(dev: NetDeviceBase, queues: QueueContext[] = [queueCtx(0), queueCtx(1)]): ActivateContext {
  return { features: dev.ackedFeatures, memory: LAYOUT, queues };
}

function negotiated(dev: NetDeviceBase = new TestDevice(), features: bigint = dev.deviceFeatures): NetDeviceBase {
  expect(dev.setDriverFeatures(features)).toBe(true);
  return dev;
}

function warnings(dev: NetDeviceBase): string[] {
  const out: string[] = [];
  dev.events.on('warning', (m) => out.push(m));
  return out;
}

function statusOf(dev: NetDeviceBase): number {
  return decodeVirtioNetConfig(dev.readConfig(0, dev.configSize))!.status;
}

async function rejection(p: Promise<unknown>): Promise<VnicError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!VnicError.is(err)) throw new Error(`expected a VnicError, got ${String(err)}`);
  return err;
}

describe('NetDeviceBase features', () => {
  it('offers what vnic implements for the config when the backend supports everything', () => {
    const dev = new TestDevice();
    // virtio 1.2 5.1.3 bit numbers: CSUM 0, GUEST_CSUM 1, CTRL_GUEST_OFFLOADS 2, MTU 3, MAC 5,
    // GUEST_TSO4..HOST_UFO 7..14, MRG_RXBUF 15, STATUS 16, CTRL_VQ 17, CTRL_RX 18, CTRL_VLAN 19,
    // CTRL_RX_EXTRA 20, GUEST_ANNOUNCE 21, MQ 22, CTRL_MAC_ADDR 23; 6.3: INDIRECT_DESC 28,
    // EVENT_IDX 29, VERSION_1 32, RING_PACKED 34, IN_ORDER 35; VQ_NOTF_COAL 52, NOTF_COAL 53. Not GSO (6) nor anything else above 32.
    expect(dev.deviceFeatures).toBe(0x30_000d_30ff_ffafn);
    for (const b of [VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_MAC, N.VIRTIO_NET_F_STATUS, N.VIRTIO_NET_F_MTU, N.VIRTIO_NET_F_MRG_RXBUF]) {
      expect(hasFeature(dev.deviceFeatures, b)).toBe(true);
    }
    for (const b of [VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, N.VIRTIO_NET_F_CTRL_VQ, N.VIRTIO_NET_F_MQ, N.VIRTIO_NET_F_HOST_TSO4]) {
      expect(hasFeature(dev.deviceFeatures, b)).toBe(true);
    }
  });

  it('never offers what the config switches off, whatever the backend supports', () => {
    const dev = new TestDevice(withoutMtu(config({ mrgRxbuf: false, eventIdx: false, ctrlVq: false })));
    expect(dev.deviceFeatures & bits(N.VIRTIO_NET_F_MTU, N.VIRTIO_NET_F_MRG_RXBUF, VIRTIO_F_EVENT_IDX, N.VIRTIO_NET_F_CTRL_VQ)).toBe(0n);
    // Backend bits vnic does not implement are not offered either.
    expect(dev.deviceFeatures & bits(N.VIRTIO_NET_F_RSS, N.VIRTIO_NET_F_GUEST_USO4, N.VIRTIO_NET_F_SPEED_DUPLEX)).toBe(0n);
  });

  it('masks the offer with the backend features and prunes what lost its requirement', () => {
    const dev = new TestDevice(config(), ALL & ~bits(N.VIRTIO_NET_F_CSUM, N.VIRTIO_NET_F_CTRL_VQ));
    expect(hasFeature(dev.deviceFeatures, N.VIRTIO_NET_F_CSUM)).toBe(false);
    for (const b of [N.VIRTIO_NET_F_HOST_TSO4, N.VIRTIO_NET_F_HOST_TSO6, N.VIRTIO_NET_F_HOST_ECN, N.VIRTIO_NET_F_HOST_UFO]) {
      expect(hasFeature(dev.deviceFeatures, b)).toBe(false);
    }
    for (const b of [N.VIRTIO_NET_F_CTRL_RX, N.VIRTIO_NET_F_CTRL_VLAN, N.VIRTIO_NET_F_MQ, N.VIRTIO_NET_F_GUEST_ANNOUNCE]) {
      expect(hasFeature(dev.deviceFeatures, b)).toBe(false);
    }
    expect(hasFeature(dev.deviceFeatures, N.VIRTIO_NET_F_GUEST_TSO4)).toBe(true);
    expect(dev.queuePairs).toBe(1);
    expect(dev.numQueues).toBe(2);
  });

  it('counts queues: 2 per pair plus the control queue', () => {
    expect(new TestDevice().numQueues).toBe(9);
    expect(new TestDevice().queuePairs).toBe(4);
    expect(new TestDevice(config({ queuePairs: 1 })).numQueues).toBe(3);
    expect(new TestDevice(config({ ctrlVq: false })).numQueues).toBe(2);
    expect(new TestDevice().queueMaxSize).toBe(256);
  });

  it('refuses a backend without VIRTIO_F_VERSION_1', () => {
    expect(() => new TestDevice(config(), ALL & ~featureBit(VIRTIO_F_VERSION_1))).toThrow(/VERSION_1/);
  });

  it.each<[string, Partial<NetDeviceConfig>]>([
    ['a 5-byte MAC', { mac: new Uint8Array(5) }],
    ['0 queue pairs', { queuePairs: 0 }],
    ['0x8001 queue pairs', { queuePairs: 0x8001 }],
    ['a queue size that is not a power of two', { queueSize: 100 }],
    ['a queue size above 32768', { queueSize: 65536 }],
    ['an MTU below 68', { mtu: 67 }],
  ])('refuses a config with %s', (_name, over) => {
    expect(() => new TestDevice(config(over))).toThrow(VnicError);
  });

  it('accepts a subset of the offer with VERSION_1', () => {
    const dev = new TestDevice();
    const f = bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_MAC, N.VIRTIO_NET_F_CSUM, N.VIRTIO_NET_F_HOST_TSO4);
    expect(dev.setDriverFeatures(f)).toBe(true);
    expect(dev.ackedFeatures).toBe(f);
  });

  it.each<[string, bigint]>([
    ['features that were not offered', bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_RSS)],
    ['no VERSION_1', bits(N.VIRTIO_NET_F_MAC)],
    ['GUEST_TSO4 without GUEST_CSUM', bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_GUEST_TSO4)],
    ['HOST_TSO6 without CSUM', bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_HOST_TSO6)],
    ['HOST_ECN without HOST_TSO', bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_CSUM, N.VIRTIO_NET_F_HOST_ECN)],
    ['GUEST_UFO without GUEST_CSUM', bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_GUEST_UFO)],
    ['CTRL_RX without CTRL_VQ', bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_CTRL_RX)],
    ['MQ without CTRL_VQ', bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_MQ)],
    ['GUEST_ANNOUNCE without CTRL_VQ', bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_GUEST_ANNOUNCE)],
    ['CTRL_MAC_ADDR without CTRL_VQ', bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_CTRL_MAC_ADDR)],
    ['CTRL_GUEST_OFFLOADS without CTRL_VQ', bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_CTRL_GUEST_OFFLOADS)],
    ['CTRL_VLAN without CTRL_VQ', bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_CTRL_VLAN)],
  ])('refuses %s, records nothing and warns', (_name, f) => {
    const dev = new TestDevice();
    const w = warnings(dev);
    expect(dev.setDriverFeatures(f)).toBe(false);
    expect(dev.ackedFeatures).toBe(0n);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^net0: features refused: /);
  });

  it('refuses new features while the data plane runs', async () => {
    const dev = negotiated();
    await dev.activate(ctxFor(dev));
    expect(dev.setDriverFeatures(bits(VIRTIO_F_VERSION_1))).toBe(false);
    expect(dev.ackedFeatures).toBe(dev.deviceFeatures);
  });

  it('places the control queue after the pairs the driver negotiated', () => {
    const dev = new TestDevice();
    expect(dev.ctrlQueueIndex).toBeUndefined();
    dev.setDriverFeatures(dev.deviceFeatures);
    expect(dev.ctrlQueueIndex).toBe(8);
    const noMq = new TestDevice();
    noMq.setDriverFeatures(noMq.deviceFeatures & ~featureBit(N.VIRTIO_NET_F_MQ));
    expect(noMq.ctrlQueueIndex).toBe(2);
    const noCtrl = new TestDevice();
    noCtrl.setDriverFeatures(bits(VIRTIO_F_VERSION_1));
    expect(noCtrl.ctrlQueueIndex).toBeUndefined();
  });
});

describe('NetDeviceBase config space', () => {
  it('lays out mac, status, max_virtqueue_pairs, mtu, speed and duplex', () => {
    const dev = new TestDevice(config({ mtu: 9000 }));
    expect(dev.configSize).toBe(17);
    expect([...dev.readConfig(0, 17)]).toEqual([
      0x52,
      0x54,
      0x00,
      0x12,
      0x34,
      0x56, // mac
      0x01,
      0x00, // status: LINK_UP
      0x04,
      0x00, // max_virtqueue_pairs
      0x28,
      0x23, // mtu 9000
      0xff,
      0xff,
      0xff,
      0xff, // speed unknown
      0xff, // duplex unknown
    ]);
  });

  it('reports one queue pair when MQ is not offered, and mtu 0 without an MTU', () => {
    const dev = new TestDevice(withoutMtu(config({ ctrlVq: false })));
    const c = decodeVirtioNetConfig(dev.readConfig(0, 17))!;
    expect(c.maxVirtqueuePairs).toBe(1);
    expect(c.mtu).toBe(0);
  });

  it('reads bytes outside config space as 0 and tolerates bad arguments', () => {
    const dev = new TestDevice();
    expect([...dev.readConfig(6, 2)]).toEqual([1, 0]);
    expect([...dev.readConfig(15, 4)]).toEqual([0xff, 0xff, 0, 0]);
    expect([...dev.readConfig(100, 4)]).toEqual([0, 0, 0, 0]);
    expect([...dev.readConfig(-2, 4)]).toEqual([0, 0, 0x52, 0x54]);
    expect([...dev.readConfig(1.5, 2)]).toEqual([0, 0]);
    expect(dev.readConfig(0, -1)).toHaveLength(0);
    expect(dev.readConfig(0, Number.NaN)).toHaveLength(0);
    expect(dev.readConfig(0, 1e9)).toHaveLength(0);
  });

  it('ignores config writes', () => {
    const dev = new TestDevice();
    const before = [...dev.readConfig(0, 17)];
    dev.writeConfig(0, Uint8Array.of(1, 2, 3, 4, 5, 6));
    expect([...dev.readConfig(0, 17)]).toEqual(before);
    expect(dev.configGeneration).toBe(0);
  });

  it('reports a link change through status, events and the generation', () => {
    const dev = new TestDevice();
    const seen: string[] = [];
    dev.events.on('link', (up) => seen.push(`link ${up}`));
    dev.events.on('config-change', () => seen.push('config-change'));
    expect(dev.linkUp).toBe(true);
    const g0 = dev.configGeneration;
    dev.setLinkUp(false);
    expect(dev.linkUp).toBe(false);
    expect(statusOf(dev)).toBe(0);
    expect(dev.configGeneration).toBe(g0 + 1);
    expect(seen).toEqual(['link false', 'config-change']);
    dev.setLinkUp(false);
    expect(dev.configGeneration).toBe(g0 + 1);
    expect(seen).toHaveLength(2);
    dev.setLinkUp(true);
    expect(statusOf(dev)).toBe(N.VIRTIO_NET_S_LINK_UP);
    expect(dev.configGeneration).toBe(g0 + 2);
    expect(seen).toEqual(['link false', 'config-change', 'link true', 'config-change']);
  });

  it('announces only when the driver acked GUEST_ANNOUNCE', () => {
    const dev = new TestDevice();
    let changes = 0;
    dev.events.on('config-change', () => changes++);
    dev.announce();
    expect(changes).toBe(0);
    expect(statusOf(dev)).toBe(N.VIRTIO_NET_S_LINK_UP);
    dev.setDriverFeatures(dev.deviceFeatures & ~featureBit(N.VIRTIO_NET_F_GUEST_ANNOUNCE));
    dev.announce();
    expect(changes).toBe(0);
  });

  it('sets VIRTIO_NET_S_ANNOUNCE, raises config-change and bumps the generation', () => {
    const dev = negotiated();
    let changes = 0;
    dev.events.on('config-change', () => changes++);
    const g0 = dev.configGeneration;
    dev.announce();
    expect(statusOf(dev)).toBe(N.VIRTIO_NET_S_LINK_UP | N.VIRTIO_NET_S_ANNOUNCE);
    expect(changes).toBe(1);
    expect(dev.configGeneration).toBe(g0 + 1);
  });

  it('clears the announce bit on reset', async () => {
    const dev = negotiated();
    dev.announce();
    await dev.reset();
    expect(statusOf(dev)).toBe(N.VIRTIO_NET_S_LINK_UP);
  });
});

describe('NetDeviceBase life cycle', () => {
  it('refuses activate before the features were accepted', async () => {
    const dev = new TestDevice();
    expect((await rejection(dev.activate({ features: 0n, memory: LAYOUT, queues: [queueCtx(0)] }))).kind).toBe('invalid-state');
    expect(dev.calls).toEqual([]);
  });

  it('activates once with the context it was given', async () => {
    const dev = negotiated() as TestDevice;
    const ctx = ctxFor(dev);
    await dev.activate(ctx);
    expect(dev.activated).toBe(true);
    expect(dev.contexts).toEqual([ctx]);
    const again = await rejection(dev.activate(ctx));
    expect(again.kind).toBe('invalid-state');
    expect(again.message).toMatch(/twice/);
    expect(dev.calls).toEqual(['activate']);
  });

  it('refuses a second activate while the first is still pending', async () => {
    const dev = negotiated() as TestDevice;
    let open!: () => void;
    dev.activateGate = new Promise((r) => (open = r));
    const first = dev.activate(ctxFor(dev));
    expect((await rejection(dev.activate(ctxFor(dev)))).kind).toBe('invalid-state');
    open();
    await first;
    expect(dev.activated).toBe(true);
  });

  it.each<[string, (dev: NetDeviceBase) => ActivateContext, RegExp]>([
    ['features other than the acked ones', (d) => ({ ...ctxFor(d), features: d.ackedFeatures & ~1n }), /differ from the acked/],
    ['no queue', (d) => ctxFor(d, []), /no queue/],
    [
      'too many queues',
      (d) =>
        ctxFor(
          d,
          Array.from({ length: 10 }, (_, i) => queueCtx(i % 9)),
        ),
      /at most 9/,
    ],
    ['a queue index past the control queue', (d) => ctxFor(d, [queueCtx(0), queueCtx(9)]), /index outside 0\.\.8/],
    ['duplicate queues', (d) => ctxFor(d, [queueCtx(1), queueCtx(1)]), /increasing index order/],
    ['queues out of order', (d) => ctxFor(d, [queueCtx(1), queueCtx(0)]), /increasing index order/],
    ['a size that is not a power of two', (d) => ctxFor(d, [queueCtx(0, { size: 48 })]), /size 48 is not a power of two between 1 and 256/],
    ['a size above the maximum', (d) => ctxFor(d, [queueCtx(0, { size: 512 })]), /size 512/],
    ['a size of 0', (d) => ctxFor(d, [queueCtx(0, { size: 0 })]), /size 0/],
    ['a misaligned descriptor table', (d) => ctxFor(d, [queueCtx(0, { descTable: MEM_BASE + 8 })]), /descriptor table .* not 16-byte aligned/],
    ['a misaligned used ring', (d) => ctxFor(d, [queueCtx(0, { usedRing: MEM_BASE + 0x802 })]), /used ring .* not 4-byte aligned/],
    ['a ring outside guest memory', (d) => ctxFor(d, [queueCtx(0, { availRing: MEM_BASE + MEM_SIZE - 8 })]), /available ring .* outside guest memory/],
    ['an address above 2^53', (d) => ctxFor(d, [queueCtx(0, { descTable: 2 ** 60 })]), /not a valid guest-physical address/],
    ['a non-integer fd', (d) => ctxFor(d, [queueCtx(0, { kickFd: 1.5 })]), /kickFd\/callFd/],
    ['no memory regions', (d) => ({ ...ctxFor(d), memory: { regions: [] } }), /no regions/],
  ])('rejects a context with %s', async (_name, make, message) => {
    const dev = negotiated() as TestDevice;
    const err = await rejection(dev.activate(make(dev)));
    expect(err.kind).toBe('invalid-argument');
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/^net0: activate: /);
    expect(dev.calls).toEqual([]);
    expect(dev.activated).toBe(false);
  });

  it('allows only rx0, tx0 and the control queue at index 2 when MQ is not negotiated', async () => {
    const dev = new TestDevice();
    dev.setDriverFeatures(dev.deviceFeatures & ~featureBit(N.VIRTIO_NET_F_MQ));
    expect((await rejection(dev.activate(ctxFor(dev, [queueCtx(0), queueCtx(3)])))).message).toMatch(/outside 0\.\.2/);
    await dev.activate(ctxFor(dev, [queueCtx(0), queueCtx(1), queueCtx(2)]));
    expect(dev.activated).toBe(true);
  });

  it('passes a backend failure through and stays inactive', async () => {
    const dev = negotiated() as TestDevice;
    dev.activateError = new VnicError('backend', 'boom');
    await expect(dev.activate(ctxFor(dev))).rejects.toThrow('boom');
    expect(dev.activated).toBe(false);
    dev.activateError = undefined;
    await dev.activate(ctxFor(dev));
    expect(dev.activated).toBe(true);
  });

  it('reset stops the data plane, returns ring state and clears negotiation', async () => {
    const dev = negotiated() as TestDevice;
    await dev.activate(ctxFor(dev));
    const states = await dev.reset();
    expect(states).toEqual([{ nextAvail: 7, nextUsed: 5 }]);
    expect(dev.activated).toBe(false);
    expect(dev.ackedFeatures).toBe(0n);
    expect(dev.calls).toEqual(['activate', 'reset']);
    // Negotiate and activate again.
    negotiated(dev);
    await dev.activate(ctxFor(dev));
    expect(dev.calls).toEqual(['activate', 'reset', 'activate']);
  });

  it('reset without a running data plane does not call the backend', async () => {
    const dev = negotiated() as TestDevice;
    expect(await dev.reset()).toEqual([]);
    expect(dev.calls).toEqual([]);
    expect(dev.ackedFeatures).toBe(0n);
  });

  it('accepts new features right after reset(), before the data plane stopped', async () => {
    const dev = negotiated() as TestDevice;
    await dev.activate(ctxFor(dev));
    const stopping = dev.reset();
    expect(dev.setDriverFeatures(dev.deviceFeatures)).toBe(true);
    const next = dev.activate(ctxFor(dev));
    await stopping;
    await next;
    expect(dev.calls).toEqual(['activate', 'reset', 'activate']);
    expect(dev.activated).toBe(true);
  });

  it('a reset() before the activation started cancels it quietly', async () => {
    const dev = negotiated() as TestDevice;
    const act = dev.activate(ctxFor(dev));
    const reset = dev.reset();
    await act;
    expect(await reset).toEqual([]);
    expect(dev.calls).toEqual([]);
    expect(dev.activated).toBe(false);
  });

  it('a reset during activation stops what the activation started', async () => {
    const dev = negotiated() as TestDevice;
    let open!: () => void;
    dev.activateGate = new Promise((r) => (open = r));
    const act = dev.activate(ctxFor(dev));
    while (dev.calls.length === 0) await Promise.resolve();
    const reset = dev.reset();
    open();
    await act;
    expect(await reset).toEqual([{ nextAvail: 7, nextUsed: 5 }]);
    expect(dev.calls).toEqual(['activate', 'reset']);
    expect(dev.activated).toBe(false);
  });

  it('close is idempotent, stops the data plane and releases the backend once', async () => {
    const dev = negotiated() as TestDevice;
    await dev.activate(ctxFor(dev));
    const a = dev.close();
    const b = dev.close();
    expect(b).toBe(a);
    await a;
    await dev.close();
    expect(dev.calls).toEqual(['activate', 'reset', 'close']);
    expect(dev.activated).toBe(false);
  });

  it('is unusable after close', async () => {
    const dev = new TestDevice();
    await dev.close();
    expect(dev.calls).toEqual(['close']);
    expect(dev.setDriverFeatures(dev.deviceFeatures)).toBe(false);
    expect((await rejection(dev.activate({ features: 0n, memory: LAYOUT, queues: [] }))).kind).toBe('invalid-state');
    expect(await dev.reset()).toEqual([]);
    let events = 0;
    dev.events.on('config-change', () => events++);
    dev.setLinkUp(false);
    expect(events).toBe(0);
  });
});

const OK = { ack: N.VIRTIO_NET_OK, len: 1 };
const ERR = { ack: N.VIRTIO_NET_ERR, len: 1 };
const M1 = Uint8Array.of(0x02, 0, 0, 0, 0, 1);
const M2 = Uint8Array.of(0x02, 0, 0, 0, 0, 2);

const ctrlRig = (d: NetDeviceBase): CtrlRig => new CtrlRig((mem, queue) => d.processControlQueue(mem, queue));

// The command logic itself is NetCtrlHandler's (NetCtrlHandler.spec.ts); the kick/signal servicing
// is ControlQueue's (ControlQueue.spec.ts). Here: how the device core wires the handler to
// negotiation, config space, announce, the backend hooks and reset.
describe('NetDeviceBase control queue wiring', () => {
  let dev: TestDevice;
  let rig: CtrlRig;
  beforeEach(() => {
    dev = new TestDevice();
    negotiated(dev);
    rig = ctrlRig(dev);
  });

  it('negotiation starts the control state over for the acked features', () => {
    const before = new TestDevice();
    expect(before.ctrlState.guestOffloads).toBe(0n);
    expect(before.ctrlState.vlans.every((w) => w === 0xffffffff)).toBe(true);
    // Acked here: CTRL_VLAN (an empty filter) and the five classic guest offloads of the config.
    expect(dev.ctrlState.vlans.every((w) => w === 0)).toBe(true);
    expect(dev.ctrlState.guestOffloads).toBe(
      bits(N.VIRTIO_NET_F_GUEST_CSUM, N.VIRTIO_NET_F_GUEST_TSO4, N.VIRTIO_NET_F_GUEST_TSO6, N.VIRTIO_NET_F_GUEST_ECN, N.VIRTIO_NET_F_GUEST_UFO),
    );
    expect(dev.ctrlState.activePairs).toBe(1);
  });

  it('routes accepted commands to the backend hooks', () => {
    expect(rig.send({ kind: 'rx-mode', mode: 'promisc', on: false })).toMatchObject(OK);
    expect(rig.send({ kind: 'mq-vq-pairs-set', pairs: 4 })).toMatchObject(OK);
    expect(rig.send({ kind: 'mq-vq-pairs-set', pairs: 5 })).toMatchObject(ERR); // the config has 4
    expect(rig.send({ kind: 'guest-offloads-set', offloads: 0n })).toMatchObject(OK);
    expect(rig.send({ kind: 'mac-addr-set', mac: M1 })).toMatchObject(OK);
    expect(dev.rxFilterChanges).toBe(1);
    expect(dev.pairs).toEqual([4]);
    expect(dev.offloads).toEqual([0n]);
    expect(dev.macs).toEqual([M1]);
    expect(dev.ctrlCounters).toEqual({ commands: 5, ok: 4, err: 1, malformed: 0 });
  });

  it('sets the default MAC and shows it in config space with a new generation', () => {
    const g0 = dev.configGeneration;
    expect(rig.send({ kind: 'mac-addr-set', mac: M2 })).toMatchObject(OK);
    expect([...dev.ctrlState.mac]).toEqual([...M2]);
    expect([...dev.readConfig(0, 6)]).toEqual([...M2]);
    expect(dev.configGeneration).toBe(g0 + 1);
  });

  it('keeps config mac when VIRTIO_NET_F_MAC was not negotiated', () => {
    const d = new TestDevice();
    d.setDriverFeatures(d.deviceFeatures & ~featureBit(N.VIRTIO_NET_F_MAC));
    expect(ctrlRig(d).send({ kind: 'mac-addr-set', mac: M2 })).toMatchObject(OK);
    expect([...d.ctrlState.mac]).toEqual([...M2]);
    expect([...d.readConfig(0, 6)]).toEqual([...MAC]);
  });

  it('ANNOUNCE_ACK clears the pending announce: the status bit goes, with a new generation', () => {
    expect(rig.send({ kind: 'announce-ack' })).toMatchObject(ERR);
    dev.announce();
    expect(statusOf(dev)).toBe(N.VIRTIO_NET_S_LINK_UP | N.VIRTIO_NET_S_ANNOUNCE);
    const g = dev.configGeneration;
    expect(rig.send({ kind: 'announce-ack' })).toMatchObject(OK);
    expect(statusOf(dev)).toBe(N.VIRTIO_NET_S_LINK_UP);
    expect(dev.configGeneration).toBe(g + 1);
  });

  it('a refused MAC_ADDR_SET restores config space (the generation moved: a driver must re-read) and warns naming the NIC', () => {
    const w = warnings(dev);
    dev.hookResult = false;
    const g = dev.configGeneration;
    expect(rig.send({ kind: 'mac-addr-set', mac: M2 })).toMatchObject(ERR);
    expect([...dev.ctrlState.mac]).toEqual([...MAC]);
    expect([...dev.readConfig(0, 6)]).toEqual([...MAC]);
    expect(dev.configGeneration).not.toBe(g);
    expect(w).toEqual(['net0: backend refused a control command']);
  });

  it('a hook that throws warns with the NIC id and the cause', () => {
    const w = warnings(dev);
    dev.hookResult = new Error('cannot program the filter');
    expect(rig.send({ kind: 'vlan-add', vid: 9 })).toMatchObject(ERR);
    expect(w).toEqual(['net0: backend failed a control command: cannot program the filter']);
  });

  it('resets the control state on device reset', async () => {
    rig.send({ kind: 'rx-mode', mode: 'promisc', on: false });
    rig.send({ kind: 'mac-addr-set', mac: M2 });
    await dev.reset();
    expect(dev.ctrlState.promisc).toBe(true);
    expect([...dev.ctrlState.mac]).toEqual([...MAC]);
    expect([...dev.readConfig(0, 6)]).toEqual([...MAC]);
    // Nothing negotiated: every command is refused.
    expect(ctrlRig(dev).send({ kind: 'rx-mode', mode: 'promisc', on: false })).toMatchObject(ERR);
  });
});
