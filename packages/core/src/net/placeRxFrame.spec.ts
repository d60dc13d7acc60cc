import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../memory/GuestMemory.ts';
import { DriverQueue } from '../queue/DriverQueue.ts';
import { SplitQueue } from '../queue/SplitQueue.ts';
import { placeRxFrame } from './placeRxFrame.ts';

const BASE = 0x1000;

function rig(bufLens: number[]) {
  const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x8000) }]);
  const l = DriverQueue.layout(BASE, 8);
  const drv = new DriverQueue({ size: 8, ...l, eventIdx: false });
  drv.init(mem);
  const q = new SplitQueue({ size: 8, ...l, eventIdx: false, indirectDesc: false });
  const addrs = bufLens.map((_, i) => BASE + 0x2000 + 0x100 * i);
  for (const [i, len] of bufLens.entries()) drv.add(mem, [{ addr: addrs[i]!, len, writable: true }]);
  drv.publish(mem);
  const chains = bufLens.map(() => q.pop(mem)!);
  return { mem, drv, q, chains, addrs };
}

describe('placeRxFrame', () => {
  it('spreads header + frame over small chains with MRG_RXBUF, num_buffers = chains used', () => {
    const r = rig([16, 16, 16]);
    const frame = Uint8Array.from({ length: 14 }, (_, i) => 0xa0 + i);
    expect(placeRxFrame(r.mem, r.q, r.chains, frame, true)).toBe(2);
    expect(r.chains).toHaveLength(1); // the third chain stays with the caller
    // 12-byte header: all zero but num_buffers (le16 at offset 10) = 2; then the frame's first 4 bytes.
    expect([...r.mem.read(r.addrs[0]!, 16)!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0xa0, 0xa1, 0xa2, 0xa3]);
    expect([...r.mem.read(r.addrs[1]!, 10)!]).toEqual([0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad]);
    expect(r.drv.popUsed(r.mem)).toMatchObject({ len: 16 });
    expect(r.drv.popUsed(r.mem)).toMatchObject({ len: 10 });
    expect(r.drv.popUsed(r.mem)).toBeUndefined();
  });

  it('leaves num_buffers 0 without MRG_RXBUF', () => {
    const r = rig([64]);
    expect(placeRxFrame(r.mem, r.q, r.chains, Uint8Array.of(1, 2, 3), false)).toBe(1);
    expect([...r.mem.read(r.addrs[0]!, 15)!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]);
    expect(r.drv.popUsed(r.mem)).toMatchObject({ len: 15 });
  });
});
