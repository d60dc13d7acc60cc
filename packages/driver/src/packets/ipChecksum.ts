import { onesComplementSum } from './onesComplementSum.ts';

/**
 * The Internet checksum (RFC 1071): the one's complement of the one's complement sum of `bytes`
 * (plus `initial`, e.g. a pseudo-header sum). Over data that carries a correct checksum it is 0.
 */
export function ipChecksum(bytes: Uint8Array, initial = 0): number {
  return ~onesComplementSum(bytes, initial) & 0xffff;
}
