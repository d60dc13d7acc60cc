import { describe, expect, it } from 'vitest';
import { VringTable } from './VringTable.ts';

const VERSION_1 = 1n << 32n;
const PROTOCOL_FEATURES = 1n << 30n;
const addr = { flags: 0, descUserAddr: 0x1000n, availUserAddr: 0x2000n, usedUserAddr: 0x3000n, logGuestAddr: 0n };

describe('VringTable', () => {
  it('a ring is ready only with memory, features, size, addresses, kick (started), call and, with PROTOCOL_FEATURES, enabled, in whatever order they came', () => {
    const t = new VringTable(2);
    const r = t.ring(0, 'x', 1);
    const steps: [string, () => void][] = [
      ['call', () => (r.call = 7)],
      ['addr', () => (r.addr = addr)],
      ['kick', () => ((r.kick = 8), (r.started = true))],
      ['num', () => (r.num = 256)],
    ];
    for (const [, apply] of steps) {
      expect(t.ready(0, true, VERSION_1)).toBe(false);
      apply();
    }
    expect(t.ready(0, true, VERSION_1)).toBe(true); // without PROTOCOL_FEATURES a ring starts enabled
    expect(t.ready(0, false, VERSION_1)).toBe(false); // no memory
    expect(t.ready(0, true, undefined)).toBe(false); // no SET_FEATURES yet
    expect(t.ready(0, true, VERSION_1 | PROTOCOL_FEATURES)).toBe(false); // disabled until SET_VRING_ENABLE 1
    r.enabled = true;
    expect(t.ready(0, true, VERSION_1 | PROTOCOL_FEATURES)).toBe(true);
    r.started = false; // GET_VRING_BASE stops it until the next kick fd
    expect(t.ready(0, true, VERSION_1)).toBe(false);
    r.started = true;
    r.call = undefined;
    expect(t.ready(0, true, VERSION_1)).toBe(false);
    r.ownCall = true; // SET_VRING_CALL with NOFD
    expect(t.ready(0, true, VERSION_1)).toBe(true);
    expect(t.ready(1, true, VERSION_1)).toBe(false);
  });

  it('an index past the table is a protocol error naming the range, not a TypeError', () => {
    const t = new VringTable(2);
    expect(() => t.ring(2, 'vhost-user /s: SET_VRING_NUM', 1)).toThrow(
      'vhost-user /s: SET_VRING_NUM: vring index 2 is out of range; this device has 2 vrings (1 queue pair(s), no control queue)',
    );
    expect(t.ready(5, true, VERSION_1)).toBe(false);
  });
});
