import { VnicError } from '../../errors/VnicError.ts';
import type { NetCoalParams } from '../../net/NetCoalParams.ts';
import type { NetCtrlState } from '../../net/NetCtrlState.ts';
import type { NetNotfCoal } from '../../net/NetNotfCoal.ts';
import { NOTF_COAL_MAX_USECS } from '../../net/NOTF_COAL_MAX_USECS.ts';
import { NET_DEVICE_STATE_VERSION } from './NET_DEVICE_STATE_VERSION.ts';
import type { NetDeviceState, NetQueueSnapshot } from './NetDeviceState.ts';

/** A NetDeviceState checked field by field, with its masks, MACs and VLAN filter decoded. */
export interface ParsedNetDeviceState {
  /** The state as given. */
  readonly state: NetDeviceState;
  readonly offered: bigint;
  readonly acked: bigint;
  readonly mac: Uint8Array;
  readonly ctrl: NetCtrlState;
  readonly queues: readonly NetQueueSnapshot[];
}

type Obj = Record<string, unknown>;

/** Largest frame a receive queue carries: the 12-byte virtio_net_hdr + 65550 bytes (VIRTIO_NET_F_GUEST_TSO*). */
const BACKLOG_FRAME_MAX = 65_562;
const STAT_FIELDS = ['packets', 'bytes', 'drops', 'malformed', 'noBuffer', 'filtered'] as const;
const CTRL_COUNTERS = ['commands', 'ok', 'err', 'malformed'] as const;
const RX_FLAGS = ['promisc', 'allmulti', 'alluni', 'nomulti', 'nouni', 'nobcast', 'uniOverflow', 'multiOverflow'] as const;

/**
 * Checks that `value` is a NetDeviceState this vnic can read (format, version, every field's
 * type and range: ring indices u16, addresses safe integers, MACs six bytes, VLAN ids < 4096) and
 * decodes it. Throws a VnicError of kind `state-refused` naming the field (`state.ctrl.vlans[3]`)
 * and what is wrong. It does not compare the state with a device: restoreState() does.
 */
export function parseNetDeviceState(value: unknown): ParsedNetDeviceState {
  const s = obj(value, 'state');
  if (s['format'] !== 'vnic.net-device-state') fail('state.format', `is ${show(s['format'])}, not "vnic.net-device-state": not a vnic device state`);
  if (s['version'] !== NET_DEVICE_STATE_VERSION) {
    fail('state.version', `is ${show(s['version'])}; this vnic reads version ${NET_DEVICE_STATE_VERSION} only (save the state again with a matching vnic)`);
  }
  str(s['id'], 'state.id');
  str(s['backend'], 'state.backend');
  const f = obj(s['features'], 'state.features');
  const offered = hex(f['offered'], 'state.features.offered');
  const acked = hex(f['acked'], 'state.features.acked');
  if ((acked & ~offered) !== 0n) fail('state.features.acked', 'has bits state.features.offered lacks');
  const c = obj(s['config'], 'state.config');
  const mac = macBytes(c['mac'], 'state.config.mac');
  int(c['mtu'], 'state.config.mtu', 0, 65535);
  const maxPairs = int(c['maxVirtqueuePairs'], 'state.config.maxVirtqueuePairs', 1, 0x8000);
  int(c['queueMaxSize'], 'state.config.queueMaxSize', 1, 0x8000);
  const numQueues = int(c['numQueues'], 'state.config.numQueues', 2, 0x10001);
  const l = obj(s['link'], 'state.link');
  bool(l['up'], 'state.link.up');
  bool(l['announce'], 'state.link.announce');
  const activated = bool(s['activated'], 'state.activated');
  const ctrl = parseCtrl(obj(s['ctrl'], 'state.ctrl'), maxPairs);
  const queues = arr(s['queues'], 'state.queues').map((q, i) => parseQueue(q, `state.queues[${i}]`, numQueues));
  for (let i = 1; i < queues.length; i++) {
    if (queues[i]!.index <= queues[i - 1]!.index)
      fail(`state.queues[${i}].index`, 'is not above the previous queue index (queues go in index order, once each)');
  }
  if (!activated && queues.length > 0) fail('state.queues', 'lists rings but state.activated is false');
  if (activated && acked === 0n) fail('state.activated', 'is true but no feature was acked');
  const counters = obj(s['counters'], 'state.counters');
  arr(counters['queues'], 'state.counters.queues').forEach((row, i) => {
    const r = obj(row, `state.counters.queues[${i}]`);
    int(r['index'], `state.counters.queues[${i}].index`, 0, numQueues - 1);
    for (const k of STAT_FIELDS) int(r[k], `state.counters.queues[${i}].${k}`, 0, Number.MAX_SAFE_INTEGER);
    for (const k of ['txWaits', 'throttled', 'throttledBytes']) {
      if (r[k] !== undefined) int(r[k], `state.counters.queues[${i}].${k}`, 0, Number.MAX_SAFE_INTEGER); // only where the backend counts it
    }
  });
  const cc = obj(counters['ctrl'], 'state.counters.ctrl');
  for (const k of CTRL_COUNTERS) int(cc[k], `state.counters.ctrl.${k}`, 0, Number.MAX_SAFE_INTEGER);
  return { state: value as NetDeviceState, offered, acked, mac, ctrl, queues };
}

function parseCtrl(c: Obj, maxPairs: number): NetCtrlState {
  const flags = Object.fromEntries(RX_FLAGS.map((k) => [k, bool(c[k], `state.ctrl.${k}`)])) as Record<(typeof RX_FLAGS)[number], boolean>;
  const vlans = new Uint32Array(128);
  if (c['vlans'] === 'all') vlans.fill(0xffffffff);
  else {
    arr(c['vlans'], 'state.ctrl.vlans').forEach((v, i) => {
      const vid = int(v, `state.ctrl.vlans[${i}]`, 0, 4095);
      vlans[vid >>> 5] = vlans[vid >>> 5]! | (1 << (vid & 31));
    });
  }
  return {
    ...flags,
    mac: macBytes(c['mac'], 'state.ctrl.mac'),
    unicast: arr(c['unicast'], 'state.ctrl.unicast').map((m, i) => macBytes(m, `state.ctrl.unicast[${i}]`)),
    multicast: arr(c['multicast'], 'state.ctrl.multicast').map((m, i) => macBytes(m, `state.ctrl.multicast[${i}]`)),
    vlans,
    activePairs: int(c['activePairs'], 'state.ctrl.activePairs', 1, maxPairs),
    guestOffloads: hex(c['guestOffloads'], 'state.ctrl.guestOffloads'),
    notfCoal: parseNotfCoal(c['notfCoal'], maxPairs),
  };
}

/** `state.ctrl.notfCoal`; a state saved before coalescing existed has none: everything 0, as after reset. */
function parseNotfCoal(value: unknown, maxPairs: number): NetNotfCoal {
  if (value === undefined) return { tx: { maxPackets: 0, maxUsecs: 0 }, rx: { maxPackets: 0, maxUsecs: 0 }, vqs: [] };
  const at = 'state.ctrl.notfCoal';
  const n = obj(value, at);
  const params = (v: unknown, where: string): NetCoalParams => {
    const p = obj(v, where);
    return {
      maxPackets: int(p['maxPackets'], `${where}.maxPackets`, 0, 0xffff_ffff),
      maxUsecs: int(p['maxUsecs'], `${where}.maxUsecs`, 0, NOTF_COAL_MAX_USECS),
    };
  };
  let last = -1;
  const vqs = arr(n['vqs'], `${at}.vqs`).map((v, i) => {
    const where = `${at}.vqs[${i}]`;
    const vqn = int(obj(v, where)['vqn'], `${where}.vqn`, last + 1, 2 * maxPairs - 1);
    last = vqn;
    return { vqn, ...params(v, where) };
  });
  return { tx: params(n['tx'], `${at}.tx`), rx: params(n['rx'], `${at}.rx`), vqs };
}

function parseQueue(value: unknown, at: string, numQueues: number): NetQueueSnapshot {
  const q = obj(value, at);
  const size = int(q['size'], `${at}.size`, 1, 0x8000);
  if ((size & (size - 1)) !== 0) fail(`${at}.size`, `is ${size}, not a power of two`);
  return {
    index: int(q['index'], `${at}.index`, 0, numQueues - 1),
    size,
    descTable: int(q['descTable'], `${at}.descTable`, 0, Number.MAX_SAFE_INTEGER),
    availRing: int(q['availRing'], `${at}.availRing`, 0, Number.MAX_SAFE_INTEGER),
    usedRing: int(q['usedRing'], `${at}.usedRing`, 0, Number.MAX_SAFE_INTEGER),
    nextAvail: int(q['nextAvail'], `${at}.nextAvail`, 0, 0xffff),
    nextUsed: int(q['nextUsed'], `${at}.nextUsed`, 0, 0xffff),
    ...(q['availWrap'] === undefined ? {} : { availWrap: bool(q['availWrap'], `${at}.availWrap`) }),
    ...(q['usedWrap'] === undefined ? {} : { usedWrap: bool(q['usedWrap'], `${at}.usedWrap`) }),
    ...(q['rxBacklog'] === undefined ? {} : { rxBacklog: backlog(q['rxBacklog'], `${at}.rxBacklog`, size) }),
  };
}

/** Frames waiting for guest buffers: at most one per ring entry, each a virtio_net_hdr + frame of at most 65562 bytes, as hex. */
function backlog(v: unknown, at: string, size: number): string[] {
  const a = arr(v, at);
  if (a.length > size) fail(at, `has ${a.length} frames, more than the queue's ${size} entries`);
  return a.map((f, i) => {
    if (typeof f !== 'string' || f.length > 2 * BACKLOG_FRAME_MAX || !/^(?:[0-9a-f]{2})+$/.test(f)) {
      fail(`${at}[${i}]`, `is not a frame of 1..${BACKLOG_FRAME_MAX} bytes as lower-case hex`);
    }
    return f;
  });
}

function fail(field: string, what: string): never {
  throw new VnicError('state-refused', `device state refused: ${field} ${what}`);
}

function show(v: unknown): string {
  return v === undefined ? 'missing' : JSON.stringify(v);
}

function obj(v: unknown, at: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(at, `is ${show(v)}, not an object`);
  return v as Obj;
}

function arr(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) fail(at, `is ${show(v)}, not an array`);
  return v;
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string') fail(at, `is ${show(v)}, not a string`);
  return v;
}

function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') fail(at, `is ${show(v)}, not a boolean`);
  return v;
}

function int(v: unknown, at: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(at, `is ${show(v)}, not an integer in ${min}..${max}`);
  return v;
}

function hex(v: unknown, at: string): bigint {
  if (typeof v !== 'string' || !/^0x[0-9a-f]{1,16}$/.test(v)) fail(at, `is ${show(v)}, not a 64-bit "0x" hex mask`);
  return BigInt(v);
}

function macBytes(v: unknown, at: string): Uint8Array {
  const a = arr(v, at);
  if (a.length !== 6) fail(at, `has ${a.length} bytes, a MAC has 6`);
  return Uint8Array.from(a.map((b, i) => int(b, `${at}[${i}]`, 0, 255)));
}
