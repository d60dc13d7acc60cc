import { describe, expect, it } from 'vitest';
import type { NetCtrlState } from './NetCtrlState.ts';
import { initialNetCtrlState } from './initialNetCtrlState.ts';
import { rxFilterAccepts } from './rxFilterAccepts.ts';

const OWN = [0x52, 0x54, 0x00, 0x00, 0x00, 0x01];
const OTHER = [0x52, 0x54, 0x00, 0x00, 0x00, 0x99];
const LISTED = [0x52, 0x54, 0x00, 0x00, 0x00, 0x42];
const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const MCAST = [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb];
const MCAST_LISTED = [0x33, 0x33, 0x00, 0x00, 0x00, 0x01];
const SRC = [0x02, 0, 0, 0, 0, 0x07];

function frame(dst: number[], vid?: number): Uint8Array {
  const tag = vid === undefined ? [] : [0x81, 0x00, (vid >> 8) & 0x0f, vid & 0xff];
  return Uint8Array.from([...dst, ...SRC, ...tag, 0x08, 0x00, ...new Array<number>(46).fill(0)]);
}

function state(over: Partial<NetCtrlState> = {}): NetCtrlState {
  return {
    ...initialNetCtrlState(Uint8Array.from(OWN), 0n),
    promisc: false,
    unicast: [Uint8Array.from(LISTED)],
    multicast: [Uint8Array.from(MCAST_LISTED)],
    ...over,
  };
}

function vlans(...ids: number[]): Uint32Array {
  const v = new Uint32Array(128);
  for (const id of ids) v[id >> 5]! |= 1 << (id & 31);
  return v;
}

/** `f` at offset `at` of a buffer whose other bytes are a broadcast address over and over (0xff). */
function embedded(f: Uint8Array, at: number): Uint8Array {
  const b = new Uint8Array(at + f.length + 9).fill(0xff);
  b.set(f, at);
  return b;
}

describe('rxFilterAccepts', () => {
  // [case, destination, state override, expected]
  it.each<[string, number[], Partial<NetCtrlState>, boolean]>([
    ['own unicast', OWN, {}, true],
    ['other unicast', OTHER, {}, false],
    ['unicast in the table', LISTED, {}, true],
    ['other unicast with alluni', OTHER, { alluni: true }, true],
    ['other unicast with table overflow', OTHER, { uniOverflow: true }, true],
    ['own unicast with nouni (QEMU: nouni drops all unicast)', OWN, { nouni: true }, false],
    ['other unicast with nouni and alluni', OTHER, { nouni: true, alluni: true }, false],
    ['broadcast', BCAST, {}, true],
    ['broadcast with nobcast', BCAST, { nobcast: true }, false],
    ['broadcast with nomulti (does not apply to broadcast)', BCAST, { nomulti: true }, true],
    ['broadcast with nobcast and allmulti', BCAST, { nobcast: true, allmulti: true }, false],
    ['multicast not in the table', MCAST, {}, false],
    ['multicast in the table', MCAST_LISTED, {}, true],
    ['multicast with allmulti', MCAST, { allmulti: true }, true],
    ['multicast with table overflow', MCAST, { multiOverflow: true }, true],
    ['multicast with nomulti and allmulti', MCAST, { nomulti: true, allmulti: true }, false],
    ['multicast in the table with nomulti', MCAST_LISTED, { nomulti: true }, false],
    ['unicast table does not admit multicast', MCAST, { unicast: [Uint8Array.from(MCAST)] }, false],
    ['multicast table does not admit unicast', OTHER, { multicast: [Uint8Array.from(OTHER)] }, false],
    ['promiscuous: other unicast', OTHER, { promisc: true }, true],
    ['promiscuous beats nouni', OWN, { promisc: true, nouni: true }, true],
    ['promiscuous beats nobcast', BCAST, { promisc: true, nobcast: true }, true],
    ['promiscuous beats nomulti', MCAST, { promisc: true, nomulti: true }, true],
  ])('%s -> %s', (_name, dst, over, expected) => {
    expect(rxFilterAccepts(frame(dst), state(over))).toBe(expected);
    // The same frame where it lies inside a larger buffer (as in guest memory): only its window is read.
    expect(rxFilterAccepts(embedded(frame(dst), 7), state(over), 7, 16)).toBe(expected);
  });

  it('admits a VLAN-tagged frame only when its id is in the filter', () => {
    const s = state({ vlans: vlans(5, 4095) });
    expect(rxFilterAccepts(frame(OWN, 5), s)).toBe(true);
    expect(rxFilterAccepts(frame(OWN, 4095), s)).toBe(true);
    expect(rxFilterAccepts(frame(OWN, 6), s)).toBe(false);
    expect(rxFilterAccepts(frame(OWN, 37), s)).toBe(false);
    // Untagged frames ignore the VLAN filter.
    expect(rxFilterAccepts(frame(OWN), s)).toBe(true);
  });

  it('still applies the MAC filter to an admitted VLAN', () => {
    const s = state({ vlans: vlans(5) });
    expect(rxFilterAccepts(frame(OTHER, 5), s)).toBe(false);
    expect(rxFilterAccepts(frame(BCAST, 5), s)).toBe(true);
  });

  it('ignores the PCP/DEI bits of the tag', () => {
    const f = frame(OWN, 5);
    f[14] = 0xe0 | f[14]!;
    expect(rxFilterAccepts(f, state({ vlans: vlans(5) }))).toBe(true);
  });

  it('accepts every tag with an all-ones filter (CTRL_VLAN not negotiated)', () => {
    expect(rxFilterAccepts(frame(OWN, 1234), state())).toBe(true);
  });

  it('promiscuous mode admits a VLAN outside the filter', () => {
    expect(rxFilterAccepts(frame(OWN, 6), state({ promisc: true, vlans: vlans() }))).toBe(true);
  });

  it('rejects frames shorter than an Ethernet header unless promiscuous', () => {
    expect(rxFilterAccepts(Uint8Array.from(OWN), state())).toBe(false);
    expect(rxFilterAccepts(Uint8Array.from([...OWN, ...SRC, 0x81, 0x00]), state())).toBe(false);
    expect(rxFilterAccepts(new Uint8Array(0), state({ promisc: true }))).toBe(true);
  });

  it('reads a window of a larger buffer: its own bytes, never those around it', () => {
    const own = embedded(frame(OWN), 3);
    expect(rxFilterAccepts(own, state(), 3, 14)).toBe(true);
    // One byte on: the window starts at the 0x54 of the address, not a MAC the filter admits.
    expect(rxFilterAccepts(own, state(), 4, 14)).toBe(false);
    // Eight 0xff bytes before it: read from there, the destination is broadcast, and nobcast refuses it.
    const late = embedded(frame(OWN), 8);
    expect(rxFilterAccepts(late, state({ nobcast: true }), 8, 14)).toBe(true);
    expect(rxFilterAccepts(late, state({ nobcast: true }), 0, 14)).toBe(false);
    // A tag cut off by the window's end is refused, as in a frame that short.
    const tagged = embedded(frame(OWN, 5), 2);
    expect(rxFilterAccepts(tagged, state({ vlans: vlans(5) }), 2, 16)).toBe(true);
    expect(rxFilterAccepts(tagged, state({ vlans: vlans(5) }), 2, 15)).toBe(false);
  });

  it('refuses a window shorter than an Ethernet header or outside the buffer', () => {
    const own = embedded(frame(OWN), 3);
    expect(rxFilterAccepts(own, state(), 3, 13)).toBe(false);
    expect(rxFilterAccepts(own, state(), own.length - 10, 14)).toBe(false);
    expect(rxFilterAccepts(own, state(), -1, 14)).toBe(false);
  });
});
