import { featureBit } from './virtio.ts';

/** The feature mask with each of `bits` set: `featureBits(a, b)` is `featureBit(a) | featureBit(b)`. */
export function featureBits(...bits: readonly number[]): bigint {
  let mask = 0n;
  for (const b of bits) mask |= featureBit(b);
  return mask;
}
