import { describe, expect, it } from 'vitest';
import { SharedQueueCounters } from './SharedQueueCounters.ts';

describe('SharedQueueCounters', () => {
  it('publishes counters and ring positions per queue; a second view over the buffer reads them', () => {
    const w = new SharedQueueCounters(3);
    expect(w.count).toBe(3);
    const r = new SharedQueueCounters(w.buffer);
    expect(r.read(1)).toEqual({ packets: 0, bytes: 0, drops: 0, malformed: 0, noBuffer: 0, filtered: 0, txWaits: 0 });
    expect(r.ring(1)).toBeUndefined();
    w.publish(1, { packets: 2 ** 40, bytes: 2 ** 52 + 2, drops: 3, malformed: 4, noBuffer: 5, filtered: 6, txWaits: 7 }, { nextAvail: 65535, nextUsed: 7 });
    expect(r.read(1)).toEqual({ packets: 2 ** 40, bytes: 2 ** 52 + 2, drops: 3, malformed: 4, noBuffer: 5, filtered: 6, txWaits: 7 });
    expect(r.ring(1)).toEqual({ nextAvail: 65535, nextUsed: 7 });
    expect(r.read(0).packets).toBe(0);
    expect(r.read(2).packets).toBe(0);
    w.publish(1, { packets: 9, bytes: 0, drops: 0, malformed: 0, noBuffer: 0, filtered: 0, txWaits: 0 });
    expect(r.ring(1)).toEqual({ nextAvail: 65535, nextUsed: 7 }); // counters only: positions kept
    r.clearRing(1);
    expect(w.ring(1)).toBeUndefined();
    expect(w.read(1).packets).toBe(9);
  });

  it("carries a packed ring's wrap counters with its positions (a split state stays without them)", () => {
    const c = new SharedQueueCounters(2);
    const zero = { packets: 0, bytes: 0, drops: 0, malformed: 0, noBuffer: 0, filtered: 0, txWaits: 0 };
    c.publish(0, zero, { nextAvail: 300, nextUsed: 299, availWrap: false, usedWrap: true });
    c.publish(1, zero, { nextAvail: 5, nextUsed: 6, availWrap: true, usedWrap: false });
    expect(c.ring(0)).toEqual({ nextAvail: 300, nextUsed: 299, availWrap: false, usedWrap: true });
    expect(c.ring(1)).toEqual({ nextAvail: 5, nextUsed: 6, availWrap: true, usedWrap: false });
    c.publish(1, zero, { nextAvail: 5, nextUsed: 6 });
    expect(c.ring(1)).toEqual({ nextAvail: 5, nextUsed: 6 });
  });

  it('never hangs on a slot a dead writer left odd (mid-update)', () => {
    const c = new SharedQueueCounters(1);
    c.publish(0, { packets: 1, bytes: 1, drops: 0, malformed: 0, noBuffer: 0, filtered: 0, txWaits: 0 });
    Atomics.add(new Int32Array(c.buffer), 0, 1); // a writer that stopped after its first increment
    expect(c.read(0).packets).toBe(1);
  });
});
