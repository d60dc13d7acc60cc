/**
 * The payload of datagram `seq` of a UDP burst: `seq` as a big-endian u32, then `(i * 7) & 0xff`
 * for i = 0.. (the same pattern the python peers build and check).
 */
export function burstPayload(seq: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  new DataView(p.buffer).setUint32(0, seq >>> 0);
  for (let i = 4; i < size; i++) p[i] = ((i - 4) * 7) & 0xff;
  return p;
}
