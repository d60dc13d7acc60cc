import type { HeadroomSample } from './checkHeadroom.ts';
import { summarizeRounds } from './virtioNet/summarizeRounds.ts';

/**
 * One load sample for a row from its windows' samples: frames offered and moved summed over the
 * windows, thread shares by their median; a field only when every window has it. Undefined when
 * no window has a sample (a side that is its own source, e.g. a C writev loop).
 */
export function combineLoads(loads: readonly (HeadroomSample | undefined)[]): HeadroomSample | undefined {
  const present = loads.filter((l): l is HeadroomSample => l !== undefined);
  if (present.length === 0) return undefined;
  const values = (k: keyof HeadroomSample): number[] | undefined => {
    const v = present.map((l) => l[k]);
    return v.every((x): x is number => x !== undefined) ? v : undefined;
  };
  const out: { -readonly [K in keyof HeadroomSample]: number } = {};
  for (const k of ['offered', 'measured'] as const) {
    const v = values(k);
    if (v !== undefined) out[k] = v.reduce((a, b) => a + b, 0);
  }
  for (const k of ['sourceBusy', 'deviceBusy'] as const) {
    const v = values(k);
    if (v !== undefined) out[k] = summarizeRounds(v).median;
  }
  return out;
}
