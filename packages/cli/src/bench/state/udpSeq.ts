import { UDP_STREAM } from './UDP_STREAM.ts';

/** The sequence number of a stream frame to `port` (the stream's, 9999), or undefined for any other frame (payload checked). */
export function udpSeq(f: Uint8Array, port: number = UDP_STREAM.port): number | undefined {
  if (f.length < UDP_STREAM.headers + 4) return undefined;
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  if (v.getUint16(12) !== UDP_STREAM.ethIpv4 || f[23] !== 17 || v.getUint16(36) !== port) return undefined;
  const seq = v.getUint32(UDP_STREAM.headers);
  for (let i = UDP_STREAM.headers + 4; i < f.length; i++)
    if (f[i] !== ((seq * 7 + i) & 0xff)) throw new Error(`stream frame ${seq}: payload byte ${i} corrupted`);
  return seq;
}
