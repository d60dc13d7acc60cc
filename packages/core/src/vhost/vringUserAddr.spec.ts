import { describe, expect, it } from 'vitest';
import { vringUserAddr } from './vringUserAddr.ts';

describe('vringUserAddr', () => {
  const memory = {
    regions: [
      { guestPhysAddr: 0, size: 0x10000, fd: 3, fdOffset: 0, hostAddr: 0x7f00_0000_0000n },
      { guestPhysAddr: 0x100000, size: 0x10000, fd: 4, fdOffset: 0x1000, hostAddr: 0x7f10_0000_0000n },
    ],
  };
  it('translates guest-physical ring addresses through the region holding each ring', () => {
    const a = vringUserAddr(memory, { descTable: 0x1000, availRing: 0x2000, usedRing: 0x100000 + 0x3000, size: 256 });
    expect(a).toEqual({
      flags: 0,
      descUserAddr: 0x7f00_0000_1000n,
      availUserAddr: 0x7f00_0000_2000n,
      usedUserAddr: 0x7f10_0000_3000n,
      logGuestAddr: 0x103000n,
    });
  });
  it('refuses rings outside memory or crossing a region end', () => {
    expect(() => vringUserAddr(memory, { descTable: 0x20000, availRing: 0, usedRing: 0, size: 16 })).toThrow(
      /descriptor table at 0x20000 \(\+256\) is outside guest memory/,
    );
    expect(() => vringUserAddr(memory, { descTable: 0, availRing: 0, usedRing: 0xfff0, size: 16 })).toThrow(/used ring/);
    expect(() => vringUserAddr(memory, { descTable: 2 ** 64, availRing: 0, usedRing: 0, size: 16 })).toThrow(/descriptor table/);
    expect(() => vringUserAddr(memory, { descTable: -16, availRing: 0, usedRing: 0, size: 16 })).toThrow(/descriptor table/);
  });
  it('refuses a region without a host mapping', () => {
    const unmapped = { regions: [{ guestPhysAddr: 0, size: 0x10000, fd: 3, fdOffset: 0, hostAddr: 0n }] };
    expect(() => vringUserAddr(unmapped, { descTable: 0, availRing: 0x1000, usedRing: 0x2000, size: 16 })).toThrow(/no host mapping/);
  });
});
