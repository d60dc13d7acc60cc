import type { QueueState } from './QueueState.ts';

/** The wrap counters of a packed ring's state, as fields to spread (none for a split ring's). */
export function packedWraps(s: Pick<QueueState, 'availWrap' | 'usedWrap'> | undefined): { availWrap?: boolean; usedWrap?: boolean } {
  if (s === undefined) return {};
  return { ...(s.availWrap === undefined ? {} : { availWrap: s.availWrap }), ...(s.usedWrap === undefined ? {} : { usedWrap: s.usedWrap }) };
}
