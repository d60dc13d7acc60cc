/**
 * The 16-bit one's complement sum of `bytes` taken as big-endian 16-bit words (an odd trailing byte
 * is padded with zero), added to `initial` and folded (RFC 1071 §4.1). Chain calls by passing the
 * previous result as `initial` (each chunk but the last must have an even length).
 */
export function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  const n = bytes.length;
  let i = 0;
  for (; i + 1 < n; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < n) sum += bytes[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
