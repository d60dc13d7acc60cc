import { VnicError } from '../errors/VnicError.ts';
import { NOTF_COAL_MAX_USECS } from '../net/NOTF_COAL_MAX_USECS.ts';
import type { NetCoalescing } from './NetCoalescing.ts';

/**
 * Checks VMM coalescing settings (`where`: the NIC id): each direction's `maxPackets` an integer
 * in 0..2^32-1, `maxUsecs` in 0..NOTF_COAL_MAX_USECS. Throws VnicError `invalid-argument` naming
 * the field (`nic0: coalescing.rx.maxUsecs ...`); returns a copy.
 */
export function checkCoalescing(where: string, c: NetCoalescing): NetCoalescing {
  const out: { rx?: { maxPackets: number; maxUsecs: number }; tx?: { maxPackets: number; maxUsecs: number } } = {};
  for (const dir of ['rx', 'tx'] as const) {
    const p = c[dir];
    if (p === undefined) continue;
    const field = (name: 'maxPackets' | 'maxUsecs', max: number): number => {
      const v = p[name];
      if (!Number.isInteger(v) || v < 0 || v > max) {
        throw new VnicError('invalid-argument', `${where}: coalescing.${dir}.${name} is ${String(v)}; expected an integer in 0..${max}`);
      }
      return v;
    };
    out[dir] = { maxPackets: field('maxPackets', 0xffff_ffff), maxUsecs: field('maxUsecs', NOTF_COAL_MAX_USECS) };
  }
  return out;
}
