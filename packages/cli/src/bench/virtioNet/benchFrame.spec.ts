import { describe, expect, it } from 'vitest';
import { benchFrame } from './benchFrame.ts';

describe('benchFrame', () => {
  const dst = Uint8Array.of(2, 0, 0, 0xbe, 0, 2);
  const src = Uint8Array.of(0x52, 0x54, 0, 0xbe, 0, 1);

  it('builds an Ethernet II frame of the asked length to dst from src with EtherType 0x88B5', () => {
    for (const len of [64, 1514]) {
      const f = benchFrame(len, dst, src);
      expect(f.length).toBe(len);
      expect([...f.subarray(0, 6)]).toEqual([...dst]);
      expect([...f.subarray(6, 12)]).toEqual([...src]);
      expect([f[12], f[13]]).toEqual([0x88, 0xb5]);
      // The payload pattern, as literal bytes: 98, 105, 112, ... wrapping past 255 (byte 37 is 3).
      expect([...f.subarray(14, 20)]).toEqual([98, 105, 112, 119, 126, 133]);
      expect([f[36], f[37], f[38]]).toEqual([252, 3, 10]);
    }
    expect(benchFrame(1514, dst, src)[1513]).toBe(95);
  });

  it('refuses lengths outside 60..65535 and MACs that are not 6 bytes', () => {
    expect(() => benchFrame(59, dst, src)).toThrow(/outside 60\.\.65535/);
    expect(() => benchFrame(65_536, dst, src)).toThrow(/outside/);
    expect(() => benchFrame(64, dst.subarray(1), src)).toThrow(/6 bytes/);
  });
});
