import { initialNetCtrlState, type NetCtrlState } from '@vnic/core';

// Layout (bytes): Int32 [seq, link, flags, unicast count, multicast count], the default MAC at 32,
// the unicast table at 40, the multicast table at 424 (64 entries of 6 bytes each), the VLAN
// bitmap (128 u32) at 808.
const SEQ = 0;
const LINK = 1;
const FLAGS = 2;
const UNI_COUNT = 3;
const MULTI_COUNT = 4;
const MAC_AT = 32;
const UNI_AT = 40;
const TABLE = 64;
const MULTI_AT = UNI_AT + 6 * TABLE;
const VLAN_AT = MULTI_AT + 6 * TABLE;
const VLAN_WORDS = 128;
const SIZE = VLAN_AT + 4 * VLAN_WORDS;
const MAX_TRIES = 1_000_000;

/** The boolean fields of the filter held in the flags word: field i is bit `1 << i`. */
const FLAG_FIELDS = ['promisc', 'allmulti', 'alluni', 'nomulti', 'nouni', 'nobcast', 'uniOverflow', 'multiOverflow'] as const;
const F_PROMISC = 1 << FLAG_FIELDS.indexOf('promisc');
const F_UNI_OVERFLOW = 1 << FLAG_FIELDS.indexOf('uniOverflow');
const F_MULTI_OVERFLOW = 1 << FLAG_FIELDS.indexOf('multiOverflow');

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The device state the IO threads need on every received frame, in a SharedArrayBuffer written by
 * the main thread (control queue, setLinkUp) and read by the IO threads without any message: the
 * link state, and the receive filter (RX mode, default MAC, MAC tables, VLAN bitmap) behind a
 * seqlock, so a reader copies a consistent filter and only when it changed (`filterVersion`).
 */
export class SharedNetState {
  /** Most MAC table entries kept (as NetDeviceBase.MAC_TABLE_ENTRIES); more means overflow. */
  static readonly TABLE_ENTRIES = TABLE;
  /** The shared memory (postMessage it to the IO threads). */
  readonly buffer: SharedArrayBuffer;
  private readonly ints: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly vlans: Uint32Array;

  /** A new state block (link up, promiscuous, every VLAN), or a view of an existing `buffer`. */
  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(SIZE);
    this.ints = new Int32Array(this.buffer, 0, 8);
    this.bytes = new Uint8Array(this.buffer);
    this.vlans = new Uint32Array(this.buffer, VLAN_AT, VLAN_WORDS);
    if (buffer === undefined) {
      this.ints[LINK] = 1;
      this.ints[FLAGS] = F_PROMISC;
      this.vlans.fill(0xffffffff);
    }
  }

  /** Link state (VIRTIO_NET_S_LINK_UP): down drops frames both ways. */
  get linkUp(): boolean {
    return Atomics.load(this.ints, LINK) === 1;
  }

  set linkUp(up: boolean) {
    Atomics.store(this.ints, LINK, up ? 1 : 0);
  }

  /** Changes whenever the filter changes (even = stable). */
  get filterVersion(): number {
    return Atomics.load(this.ints, SEQ);
  }

  /** Publishes the receive filter of `state` (main thread: after every RX mode, MAC or VLAN command). */
  writeFilter(state: NetCtrlState): void {
    const ints = this.ints;
    const seq = Atomics.add(ints, SEQ, 1) + 1; // odd: writing
    let flags = (state.unicast.length > TABLE ? F_UNI_OVERFLOW : 0) | (state.multicast.length > TABLE ? F_MULTI_OVERFLOW : 0);
    for (let i = 0; i < FLAG_FIELDS.length; i++) if (state[FLAG_FIELDS[i]!]) flags |= 1 << i;
    ints[FLAGS] = flags;
    this.bytes.set(state.mac.subarray(0, 6), MAC_AT);
    ints[UNI_COUNT] = writeTable(this.bytes, UNI_AT, state.unicast);
    ints[MULTI_COUNT] = writeTable(this.bytes, MULTI_AT, state.multicast);
    this.vlans.set(state.vlans.subarray(0, VLAN_WORDS));
    Atomics.store(ints, SEQ, seq + 1);
  }

  /**
   * Copies the filter into `into` (reusing its arrays) or a new NetCtrlState, consistently, and
   * returns it with the version it reflects. `activePairs` and `guestOffloads` are not shared
   * (1 and 0n): only rxFilterAccepts reads the copy.
   */
  readFilter(into?: NetCtrlState): { state: NetCtrlState; version: number } {
    const s: Mutable<NetCtrlState> = (into as Mutable<NetCtrlState> | undefined) ?? emptyState();
    const ints = this.ints;
    for (let tries = 0; ; tries++) {
      const before = Atomics.load(ints, SEQ);
      if ((before & 1) !== 0 && tries < MAX_TRIES) continue;
      const flags = ints[FLAGS]!;
      for (let i = 0; i < FLAG_FIELDS.length; i++) s[FLAG_FIELDS[i]!] = (flags & (1 << i)) !== 0;
      const mac = s.mac.length === 6 ? s.mac : new Uint8Array(6);
      mac.set(this.bytes.subarray(MAC_AT, MAC_AT + 6));
      s.mac = mac;
      s.unicast = readTable(this.bytes, UNI_AT, ints[UNI_COUNT]!);
      s.multicast = readTable(this.bytes, MULTI_AT, ints[MULTI_COUNT]!);
      const vlans = s.vlans.length === VLAN_WORDS ? s.vlans : new Uint32Array(VLAN_WORDS);
      vlans.set(this.vlans);
      s.vlans = vlans;
      if (Atomics.load(ints, SEQ) === before || tries >= MAX_TRIES) return { state: s, version: before };
    }
  }
}

function emptyState(): Mutable<NetCtrlState> {
  return { ...initialNetCtrlState(new Uint8Array(6), 0n) };
}

function writeTable(bytes: Uint8Array, at: number, macs: readonly Uint8Array[]): number {
  const n = Math.min(macs.length, TABLE);
  for (let i = 0; i < n; i++) bytes.set(macs[i]!.subarray(0, 6), at + 6 * i);
  return n;
}

function readTable(bytes: Uint8Array, at: number, count: number): Uint8Array[] {
  const n = Math.max(0, Math.min(count, TABLE));
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(bytes.slice(at + 6 * i, at + 6 * i + 6));
  return out;
}
