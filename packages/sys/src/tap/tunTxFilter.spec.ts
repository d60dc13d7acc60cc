import { initialNetCtrlState, rxFilterAccepts, type NetCtrlState } from '@vnic/core';
import { describe, expect, it } from 'vitest';
import { tunTxFilter } from './tunTxFilter.ts';

const MAC = Uint8Array.of(0x52, 0x54, 0, 1, 2, 3);
const base: NetCtrlState = { ...initialNetCtrlState(MAC, 0n), promisc: false };
const mac = (...b: number[]): Uint8Array => Uint8Array.of(...b);
const BCAST = mac(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

/** What the kernel's run_filter passes (exact list, then the multicast hash; modelled: exact multicast or allMulti). */
function tunPasses(f: ReturnType<typeof tunTxFilter>, dst: Uint8Array): boolean {
  if (f === undefined || f.addrs.length === 0) return true;
  if (f.addrs.slice(0, 8).some((a) => a.every((b, i) => b === dst[i]))) return true;
  if ((dst[0]! & 1) === 0) return false;
  return f.allMulti || f.addrs.slice(8).some((a) => a.every((b, i) => b === dst[i]));
}

describe('tunTxFilter', () => {
  it('is off for promisc, alluni, a unicast overflow or more than 8 unicast addresses', () => {
    expect(tunTxFilter({ ...base, promisc: true })).toBeUndefined();
    expect(tunTxFilter({ ...base, alluni: true })).toBeUndefined();
    expect(tunTxFilter({ ...base, uniOverflow: true })).toBeUndefined();
    expect(tunTxFilter({ ...base, unicast: Array.from({ length: 8 }, (_, i) => mac(2, 0, 0, 0, 0, i)) })).toBeUndefined();
  });

  it('lists the own MAC, the unicast table and broadcast exactly, unicast first', () => {
    const uni = mac(2, 0, 0, 0, 0, 9);
    const multi = mac(1, 0, 0x5e, 0, 0, 1);
    expect(tunTxFilter({ ...base, unicast: [uni], multicast: [multi] })).toEqual({ allMulti: false, addrs: [MAC, uni, BCAST, multi] });
    expect(tunTxFilter({ ...base, allmulti: true })).toEqual({ allMulti: true, addrs: [MAC, BCAST] });
    expect(tunTxFilter({ ...base, nouni: true, nobcast: true, nomulti: true })).toEqual({ allMulti: false, addrs: [new Uint8Array(6)] });
  });

  it('never drops a frame rxFilterAccepts passes (untagged), over many states', () => {
    const dsts = [MAC, BCAST, mac(2, 0, 0, 0, 0, 9), mac(2, 0, 0, 0, 0, 10), mac(1, 0, 0x5e, 0, 0, 1), mac(1, 0, 0x5e, 0, 0, 2), mac(0x33, 0x33, 0, 0, 0, 1)];
    const flags = ['allmulti', 'alluni', 'nomulti', 'nouni', 'nobcast'] as const;
    let checked = 0;
    for (let m = 0; m < 1 << flags.length; m++) {
      for (const tables of [
        { unicast: [], multicast: [] },
        { unicast: [dsts[2]!], multicast: [dsts[4]!] },
      ]) {
        const s: NetCtrlState = { ...base, ...tables, ...Object.fromEntries(flags.map((f, i) => [f, (m & (1 << i)) !== 0])) };
        const f = tunTxFilter(s);
        for (const dst of dsts) {
          const frame = new Uint8Array(60);
          frame.set(dst, 0);
          frame[12] = 0x08;
          if (rxFilterAccepts(frame, s)) {
            expect(tunPasses(f, dst), `state ${m} dst ${Buffer.from(dst).toString('hex')}`).toBe(true);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});
