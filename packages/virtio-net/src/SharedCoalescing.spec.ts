import { describe, expect, it } from 'vitest';
import { SharedCoalescing } from './SharedCoalescing.ts';

describe('SharedCoalescing', () => {
  it('starts off, publishes per queue and is read back through another view of the buffer', () => {
    const w = new SharedCoalescing(4);
    const r = new SharedCoalescing(0, w.buffer);
    expect(r.queues).toBe(4);
    expect(r.read(1)).toEqual({ maxPackets: 0, maxUsecs: 0 });
    const v0 = r.version;
    w.publish((vqn) => ({ maxPackets: vqn === 0 ? 32 : 0, maxUsecs: 0xffff_ffff - vqn }));
    expect(r.version).toBe(v0 + 2);
    expect(r.read(0)).toEqual({ maxPackets: 32, maxUsecs: 0xffff_ffff });
    expect(r.read(3)).toEqual({ maxPackets: 0, maxUsecs: 0xffff_fffc });
    expect(r.read(4)).toEqual({ maxPackets: 0, maxUsecs: 0 });
    expect(r.read(-1)).toEqual({ maxPackets: 0, maxUsecs: 0 });
  });
});
