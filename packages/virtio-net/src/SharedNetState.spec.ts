import { initialNetCtrlState, rxFilterAccepts, type NetCtrlState } from '@vnic/core';
import { describe, expect, it } from 'vitest';
import { SharedNetState } from './SharedNetState.ts';

const MAC = Uint8Array.of(0x52, 0x54, 0, 1, 2, 3);

function state(over: Partial<NetCtrlState> = {}): NetCtrlState {
  return { ...initialNetCtrlState(MAC, 0n), promisc: false, vlans: new Uint32Array(128), ...over };
}

function frame(dst: number[], vid?: number): Uint8Array {
  const f = new Uint8Array(64);
  f.set(dst, 0);
  if (vid !== undefined) {
    f[12] = 0x81;
    f[14] = vid >> 8;
    f[15] = vid & 0xff;
  }
  return f;
}

const FRAMES = [
  frame([...MAC]),
  frame([0x52, 0x54, 0, 9, 9, 9]),
  frame([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
  frame([0x01, 0x00, 0x5e, 0, 0, 1]),
  frame([0x33, 0x33, 0, 0, 0, 1]),
  frame([...MAC], 100),
  frame([...MAC], 4095),
  frame([0x52, 0x54, 0, 7, 7, 7], 7),
];

describe('SharedNetState', () => {
  it('starts link up, promiscuous, every VLAN', () => {
    const s = new SharedNetState();
    expect(s.linkUp).toBe(true);
    const { state: f } = s.readFilter();
    expect(f.promisc).toBe(true);
    expect([...f.vlans].every((w) => w === 0xffffffff)).toBe(true);
  });

  it('carries the link state and the filter to another view; the copy filters exactly like the original', () => {
    const main = new SharedNetState();
    const io = new SharedNetState(main.buffer);
    main.linkUp = false;
    expect(io.linkUp).toBe(false);
    const vlans = new Uint32Array(128);
    vlans[100 >> 5] = 1 << (100 & 31);
    vlans[4095 >> 5] = 1 << (4095 & 31);
    const cases: NetCtrlState[] = [
      state(),
      state({ promisc: true }),
      state({ nobcast: true, allmulti: true }),
      state({ nomulti: true, alluni: true }),
      state({ nouni: true }),
      state({ unicast: [Uint8Array.of(0x52, 0x54, 0, 9, 9, 9)], multicast: [Uint8Array.of(0x33, 0x33, 0, 0, 0, 1)] }),
      state({ uniOverflow: true, multiOverflow: true }),
      state({ vlans, mac: Uint8Array.of(0x52, 0x54, 0, 7, 7, 7) }),
    ];
    let version = io.filterVersion;
    let copy: NetCtrlState | undefined;
    for (const [i, c] of cases.entries()) {
      main.writeFilter(c);
      expect(io.filterVersion, `case ${i}`).not.toBe(version);
      const got = io.readFilter(copy);
      copy = got.state;
      version = got.version;
      expect(version % 2).toBe(0);
      for (const [k, f] of FRAMES.entries()) expect(rxFilterAccepts(f, copy), `case ${i} frame ${k}`).toBe(rxFilterAccepts(f, c));
    }
  });

  it('marks more table entries than it keeps as overflow (accept all of that kind)', () => {
    const main = new SharedNetState();
    const many = Array.from({ length: SharedNetState.TABLE_ENTRIES + 1 }, (_, i) => Uint8Array.of(0x52, 0, 0, 0, 0, i));
    main.writeFilter(state({ unicast: many }));
    const { state: f } = new SharedNetState(main.buffer).readFilter();
    expect(f.uniOverflow).toBe(true);
    expect(f.unicast).toHaveLength(SharedNetState.TABLE_ENTRIES);
  });
});
