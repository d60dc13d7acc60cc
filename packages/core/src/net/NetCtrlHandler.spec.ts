import { beforeEach, describe, expect, it } from 'vitest';
import { featureBit } from '../defs/virtio.ts';
import * as N from '../defs/virtio_net.ts';
import { CtrlRig } from './CtrlRig.ts';
import { encodeNetCtrlCommand } from './encodeNetCtrlCommand.ts';
import type { NetCtrlCommand } from './NetCtrlCommand.ts';
import { NetCtrlHandler, type NetCtrlHost } from './NetCtrlHandler.ts';

// The control queue's command logic on its own (virtio 1.2 §5.1.6.5): a recording host plays the
// device, a CtrlRig plays the driver side of the ring. How the device core wires the handler to
// config space and the backend hooks is in NetDeviceBase.spec.ts; the kick/signal servicing in
// ControlQueue.spec.ts.

const bits = (...n: number[]): bigint => n.reduce((a, b) => a | featureBit(b), 0n);
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const M1 = Uint8Array.of(0x02, 0, 0, 0, 0, 1);
const M2 = Uint8Array.of(0x02, 0, 0, 0, 0, 2);
const MC = Uint8Array.of(0x01, 0x00, 0x5e, 0, 0, 1);
const GUEST_OFFLOADS = [N.VIRTIO_NET_F_GUEST_CSUM, N.VIRTIO_NET_F_GUEST_TSO4, N.VIRTIO_NET_F_GUEST_TSO6, N.VIRTIO_NET_F_GUEST_ECN, N.VIRTIO_NET_F_GUEST_UFO];
/** Every feature acked but the USO guest offloads: the whole control family, five guest offloads, CSUM (a host offload). */
const FEATURES = ((1n << 64n) - 1n) & ~bits(N.VIRTIO_NET_F_GUEST_USO4, N.VIRTIO_NET_F_GUEST_USO6);
const OK = { ack: N.VIRTIO_NET_OK, len: 1 };
const ERR = { ack: N.VIRTIO_NET_ERR, len: 1 };

/** A device that records what the handler asks of it; `hookResult` is what every backend hook answers. */
class Host implements NetCtrlHost {
  readonly queuePairs = 4;
  readonly pairs: number[] = [];
  readonly offloads: bigint[] = [];
  readonly macs: Uint8Array[] = [];
  readonly warnings: string[] = [];
  rxFilterChanges = 0;
  macUpdates = 0;
  announcePending = false;
  hookResult: boolean | Error | undefined;

  onActivePairsChanged(pairs: number): boolean | void {
    this.pairs.push(pairs);
    return this.#hook();
  }
  onGuestOffloadsChanged(offloads: bigint): boolean | void {
    this.offloads.push(offloads);
    return this.#hook();
  }
  onRxFilterChanged(): boolean | void {
    this.rxFilterChanges++;
    return this.#hook();
  }
  onMacChanged(mac: Uint8Array): boolean | void {
    this.macs.push(mac);
    return this.#hook();
  }
  ackAnnounce(): boolean {
    if (!this.announcePending) return false;
    this.announcePending = false;
    return true;
  }
  macUpdated(): void {
    this.macUpdates++;
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
  #hook(): boolean | void {
    if (this.hookResult instanceof Error) throw this.hookResult;
    return this.hookResult;
  }
}

function handlerFor(features: bigint = FEATURES): { h: NetCtrlHandler; host: Host; rig: CtrlRig } {
  const host = new Host();
  const h = new NetCtrlHandler(host, MAC);
  h.reset(features);
  return { h, host, rig: new CtrlRig((mem, queue) => h.process(mem, queue)) };
}

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

describe('NetCtrlHandler', () => {
  let h: NetCtrlHandler;
  let host: Host;
  let rig: CtrlRig;
  beforeEach(() => {
    ({ h, host, rig } = handlerFor());
  });

  it('starts from the QEMU reset state', () => {
    const s = h.state;
    expect(s.promisc).toBe(true);
    expect([s.allmulti, s.alluni, s.nomulti, s.nouni, s.nobcast]).toEqual([false, false, false, false, false]);
    expect([...s.mac]).toEqual([...MAC]);
    expect(s.unicast).toEqual([]);
    expect(s.multicast).toEqual([]);
    expect(s.activePairs).toBe(1);
    // CTRL_VLAN acked: an empty VLAN filter.
    expect(s.vlans.every((w) => w === 0)).toBe(true);
    // Every guest offload acked is on.
    expect(s.guestOffloads).toBe(bits(...GUEST_OFFLOADS));
  });

  it('before negotiation (and without CTRL_VLAN) every VLAN passes and no guest offload is on', () => {
    const fresh = new NetCtrlHandler(new Host(), MAC);
    expect(fresh.state.vlans.every((w) => w === 0xffffffff)).toBe(true);
    expect(fresh.state.guestOffloads).toBe(0n);
    const { h: noVlan } = handlerFor(FEATURES & ~featureBit(N.VIRTIO_NET_F_CTRL_VLAN));
    expect(noVlan.state.vlans.every((w) => w === 0xffffffff)).toBe(true);
  });

  it('applies RX mode commands and acks them with VIRTIO_NET_OK', () => {
    expect(rig.send({ kind: 'rx-mode', mode: 'promisc', on: false })).toMatchObject(OK);
    expect(rig.send({ kind: 'rx-mode', mode: 'allmulti', on: true })).toMatchObject(OK);
    expect(rig.send({ kind: 'rx-mode', mode: 'alluni', on: true })).toMatchObject(OK);
    expect(rig.send({ kind: 'rx-mode', mode: 'nomulti', on: true })).toMatchObject(OK);
    expect(rig.send({ kind: 'rx-mode', mode: 'nouni', on: true })).toMatchObject(OK);
    expect(rig.send({ kind: 'rx-mode', mode: 'nobcast', on: true })).toMatchObject(OK);
    const s = h.state;
    expect([s.promisc, s.allmulti, s.alluni, s.nomulti, s.nouni, s.nobcast]).toEqual([false, true, true, true, true, true]);
    expect(host.rxFilterChanges).toBe(6);
    expect(h.counters).toEqual({ commands: 6, ok: 6, err: 0, malformed: 0 });
  });

  it('reads a command split over several descriptors, as Linux sends it', () => {
    const hdr = rig.buf(Uint8Array.of(N.VIRTIO_NET_CTRL_MQ, N.VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET));
    const data = rig.buf(Uint8Array.of(3, 0));
    const ack = rig.buf(1, true);
    expect(rig.run([hdr, data, ack], ack.addr)).toMatchObject(OK);
    expect(h.state.activePairs).toBe(3);
    expect(host.pairs).toEqual([3]);
  });

  it('writes the ack into the first writable byte and reports used length 1', () => {
    const out = rig.buf(encodeNetCtrlCommand({ kind: 'vlan-add', vid: 1 }));
    const ack = rig.buf(8, true);
    expect(rig.run([out, ack], ack.addr)).toMatchObject(OK);
    expect([...rig.mem.read(ack.addr, 8)!]).toEqual([0, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee]);
  });

  it('refuses the RX_EXTRA modes without CTRL_RX_EXTRA, and keeps PROMISC (CTRL_RX)', () => {
    const { h: d, rig: r } = handlerFor(FEATURES & ~featureBit(N.VIRTIO_NET_F_CTRL_RX_EXTRA));
    expect(r.send({ kind: 'rx-mode', mode: 'promisc', on: false })).toMatchObject(OK);
    expect(r.send({ kind: 'rx-mode', mode: 'alluni', on: true })).toMatchObject(ERR);
    expect(r.send({ kind: 'rx-mode', mode: 'nobcast', on: true })).toMatchObject(ERR);
    expect(d.state.alluni).toBe(false);
    expect(d.state.nobcast).toBe(false);
  });

  it.each<[string, number, NetCtrlCommand]>([
    ['RX PROMISC without CTRL_RX', N.VIRTIO_NET_F_CTRL_RX, { kind: 'rx-mode', mode: 'promisc', on: false }],
    ['MAC_TABLE_SET without CTRL_RX', N.VIRTIO_NET_F_CTRL_RX, { kind: 'mac-table-set', unicast: [M1], multicast: [] }],
    ['MAC_ADDR_SET without CTRL_MAC_ADDR', N.VIRTIO_NET_F_CTRL_MAC_ADDR, { kind: 'mac-addr-set', mac: M1 }],
    ['VLAN_ADD without CTRL_VLAN', N.VIRTIO_NET_F_CTRL_VLAN, { kind: 'vlan-add', vid: 5 }],
    ['VQ_PAIRS_SET without MQ', N.VIRTIO_NET_F_MQ, { kind: 'mq-vq-pairs-set', pairs: 2 }],
    ['GUEST_OFFLOADS_SET without CTRL_GUEST_OFFLOADS', N.VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, { kind: 'guest-offloads-set', offloads: 0n }],
    ['ANNOUNCE_ACK without GUEST_ANNOUNCE', N.VIRTIO_NET_F_GUEST_ANNOUNCE, { kind: 'announce-ack' }],
  ])('acks %s with VIRTIO_NET_ERR and changes nothing', (_name, feature, cmd) => {
    const { h: d, host: hs, rig: r } = handlerFor(FEATURES & ~featureBit(feature));
    hs.announcePending = true;
    const before = json(d.state);
    expect(r.send(cmd)).toMatchObject(ERR);
    expect(json(d.state)).toBe(before);
    expect(hs.announcePending).toBe(true);
    expect([hs.pairs, hs.offloads, hs.macs, hs.rxFilterChanges]).toEqual([[], [], [], 0]);
    expect(d.counters).toEqual({ commands: 1, ok: 0, err: 1, malformed: 0 });
  });

  it('sets the MAC tables, copying the addresses out of guest memory', () => {
    const cmd = rig.buf(encodeNetCtrlCommand({ kind: 'mac-table-set', unicast: [M1, M2], multicast: [MC] }));
    const ack = rig.buf(1, true);
    expect(rig.run([cmd, ack], ack.addr)).toMatchObject(OK);
    rig.mem.write(cmd.addr, new Uint8Array(cmd.len)); // the guest reuses its buffer
    expect(h.state.unicast).toEqual([M1, M2]);
    expect(h.state.multicast).toEqual([MC]);
    expect(h.state.uniOverflow).toBe(false);
    expect(rig.send({ kind: 'mac-table-set', unicast: [], multicast: [] })).toMatchObject(OK);
    expect(h.state.unicast).toEqual([]);
  });

  it('switches to overflow (accept all of the kind) past MAC_TABLE_ENTRIES (64)', () => {
    expect(NetCtrlHandler.MAC_TABLE_ENTRIES).toBe(64);
    const many = Array.from({ length: 65 }, (_, i) => Uint8Array.of(2, 0, 0, 0, i >> 8, i & 0xff));
    expect(rig.send({ kind: 'mac-table-set', unicast: many, multicast: [MC] })).toMatchObject(OK);
    expect(h.state.uniOverflow).toBe(true);
    expect(h.state.unicast).toEqual([]);
    expect(h.state.multiOverflow).toBe(false);
    expect(h.state.multicast).toEqual([MC]);
    expect(rig.send({ kind: 'mac-table-set', unicast: many.slice(0, 64), multicast: [] })).toMatchObject(OK);
    expect(h.state.uniOverflow).toBe(false);
    expect(h.state.unicast).toHaveLength(64);
  });

  it('sets the default MAC, has config space refreshed and hands the backend a copy', () => {
    expect(rig.send({ kind: 'mac-addr-set', mac: M2 })).toMatchObject(OK);
    expect([...h.state.mac]).toEqual([...M2]);
    expect(host.macUpdates).toBe(1);
    expect(host.macs).toEqual([M2]);
    host.macs[0]![5] = 0x99; // the backend's copy is its own
    expect(h.state.mac[5]).toBe(2);
  });

  it('adds and removes VLAN ids in the filter bitmap; a vid above 4095 is malformed', () => {
    expect(rig.send({ kind: 'vlan-add', vid: 0 })).toMatchObject(OK);
    expect(rig.send({ kind: 'vlan-add', vid: 37 })).toMatchObject(OK);
    expect(rig.send({ kind: 'vlan-add', vid: 4095 })).toMatchObject(OK);
    expect(h.state.vlans[0]).toBe(1);
    expect(h.state.vlans[1]).toBe(1 << 5);
    expect(h.state.vlans[127]).toBe(0x80000000);
    expect(rig.send({ kind: 'vlan-del', vid: 37 })).toMatchObject(OK);
    expect(h.state.vlans[1]).toBe(0);
    expect(rig.send(Uint8Array.of(N.VIRTIO_NET_CTRL_VLAN, N.VIRTIO_NET_CTRL_VLAN_ADD, 0x00, 0x10))).toMatchObject(ERR);
    expect(host.rxFilterChanges).toBe(4);
  });

  it('sets the active queue pairs within the pairs the device offers', () => {
    expect(rig.send({ kind: 'mq-vq-pairs-set', pairs: 4 })).toMatchObject(OK);
    expect(h.state.activePairs).toBe(4);
    expect(rig.send({ kind: 'mq-vq-pairs-set', pairs: 5 })).toMatchObject(ERR);
    expect(rig.send(Uint8Array.of(N.VIRTIO_NET_CTRL_MQ, 0, 0, 0))).toMatchObject(ERR);
    expect(rig.send({ kind: 'mq-vq-pairs-set', pairs: 1 })).toMatchObject(OK);
    expect(h.state.activePairs).toBe(1);
    expect(host.pairs).toEqual([4, 1]);
  });

  it('sets guest offloads only to a subset of the acked guest offloads', () => {
    const csum = bits(N.VIRTIO_NET_F_GUEST_CSUM);
    expect(rig.send({ kind: 'guest-offloads-set', offloads: csum })).toMatchObject(OK);
    expect(h.state.guestOffloads).toBe(csum);
    expect(rig.send({ kind: 'guest-offloads-set', offloads: 0n })).toMatchObject(OK);
    expect(rig.send({ kind: 'guest-offloads-set', offloads: bits(N.VIRTIO_NET_F_GUEST_USO4) })).toMatchObject(ERR); // not acked
    expect(rig.send({ kind: 'guest-offloads-set', offloads: bits(N.VIRTIO_NET_F_CSUM) })).toMatchObject(ERR); // a host offload
    expect(h.state.guestOffloads).toBe(0n);
    expect(host.offloads).toEqual([csum, 0n]);
  });

  it('acks ANNOUNCE_ACK only while the device has an announce pending', () => {
    expect(rig.send({ kind: 'announce-ack' })).toMatchObject(ERR);
    host.announcePending = true;
    expect(rig.send({ kind: 'announce-ack' })).toMatchObject(OK);
    expect(host.announcePending).toBe(false);
    expect(rig.send({ kind: 'announce-ack' })).toMatchObject(ERR);
  });

  it('acks ERR, rolls back and warns when a hook returns false', () => {
    host.hookResult = false;
    expect(rig.send({ kind: 'rx-mode', mode: 'promisc', on: false })).toMatchObject(ERR);
    expect(h.state.promisc).toBe(true);
    expect(rig.send({ kind: 'mq-vq-pairs-set', pairs: 2 })).toMatchObject(ERR);
    expect(h.state.activePairs).toBe(1);
    expect(rig.send({ kind: 'mac-table-set', unicast: [M1], multicast: [MC] })).toMatchObject(ERR);
    expect(h.state.unicast).toEqual([]);
    expect(h.state.multicast).toEqual([]);
    expect(rig.send({ kind: 'mac-addr-set', mac: M2 })).toMatchObject(ERR);
    expect([...h.state.mac]).toEqual([...MAC]);
    expect(host.macUpdates).toBe(2); // set, then set back: config space follows both
    expect(rig.send({ kind: 'vlan-add', vid: 3 })).toMatchObject(ERR);
    expect(h.state.vlans[0]).toBe(0);
    expect(rig.send({ kind: 'guest-offloads-set', offloads: 0n })).toMatchObject(ERR);
    expect(h.state.guestOffloads).toBe(bits(...GUEST_OFFLOADS));
    expect(host.warnings).toEqual(Array<string>(6).fill('backend refused a control command'));
  });

  it('acks ERR, rolls back and warns with the cause when a hook throws', () => {
    host.hookResult = new Error('cannot program the filter');
    expect(rig.send({ kind: 'vlan-add', vid: 9 })).toMatchObject(ERR);
    expect(h.state.vlans[0]).toBe(0);
    expect(host.warnings).toEqual(['backend failed a control command: cannot program the filter']);
    expect(h.counters).toEqual({ commands: 1, ok: 0, err: 1, malformed: 0 });
  });

  it('acks malformed commands with ERR and counts them', () => {
    expect(rig.send(Uint8Array.of(0))).toMatchObject(ERR);
    expect(rig.send(Uint8Array.of(9, 0))).toMatchObject(ERR);
    expect(rig.send(Uint8Array.of(N.VIRTIO_NET_CTRL_RX, 0, 1, 1))).toMatchObject(ERR);
    expect(h.state.promisc).toBe(true);
    expect(h.counters).toEqual({ commands: 3, ok: 0, err: 3, malformed: 3 });
  });

  it('returns a chain without a writable byte with used length 0, unexecuted; the queue goes on', () => {
    const out = rig.buf(encodeNetCtrlCommand({ kind: 'rx-mode', mode: 'promisc', on: false }));
    expect(rig.run([out], undefined)).toMatchObject({ len: 0 });
    expect(h.state.promisc).toBe(true);
    expect(h.counters).toEqual({ commands: 1, ok: 0, err: 0, malformed: 1 });
    expect(rig.send({ kind: 'rx-mode', mode: 'promisc', on: false })).toMatchObject(OK);
  });

  it('refuses a command whose readable part is larger than MAX_CTRL_COMMAND_SIZE (1 MiB)', () => {
    expect(NetCtrlHandler.MAX_CTRL_COMMAND_SIZE).toBe(1 << 20);
    const big = new CtrlRig((mem, queue) => h.process(mem, queue), (1 << 20) + 0x10000);
    const ack = big.buf(1, true);
    const huge = { addr: CtrlRig.BASE + 0x8000, len: (1 << 20) + 1, writable: false };
    big.mem.write(huge.addr, encodeNetCtrlCommand({ kind: 'rx-mode', mode: 'promisc', on: false }));
    expect(big.run([huge, ack], ack.addr)).toMatchObject(ERR);
    expect(h.state.promisc).toBe(true);
    expect(h.counters.malformed).toBe(1);
  });

  it('processes every pending command in one call and asks for one notification', () => {
    for (const vid of [1, 2, 3]) rig.drv.add(rig.mem, [rig.buf(encodeNetCtrlCommand({ kind: 'vlan-add', vid })), rig.buf(1, true)]);
    rig.drv.publish(rig.mem);
    expect(rig.process()).toBe(true);
    expect(rig.drv.usedPending(rig.mem)).toBe(3);
    expect(h.state.vlans[0]).toBe(0b1110);
    expect(rig.process()).toBe(false);
  });

  it('honours VIRTQ_AVAIL_F_NO_INTERRUPT', () => {
    rig.drv.disableInterrupts(rig.mem);
    expect(rig.send({ kind: 'vlan-add', vid: 1 })).toMatchObject({ ...OK, notify: false });
  });

  it('reset starts the state over for the new features; the counters survive', () => {
    rig.send({ kind: 'rx-mode', mode: 'promisc', on: false });
    rig.send({ kind: 'mac-addr-set', mac: M2 });
    rig.send({ kind: 'vlan-add', vid: 7 });
    h.reset(0n);
    expect(h.state.promisc).toBe(true);
    expect([...h.state.mac]).toEqual([...MAC]);
    expect(h.state.vlans.every((w) => w === 0xffffffff)).toBe(true);
    expect(h.counters.commands).toBe(3);
    // Nothing acked: every command is refused.
    expect(rig.send({ kind: 'rx-mode', mode: 'promisc', on: false })).toMatchObject(ERR);
  });
});
