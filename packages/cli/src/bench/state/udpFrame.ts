import { UDP_STREAM } from './UDP_STREAM.ts';

/** An Ethernet + IPv4 + UDP frame to `port` (the stream's, 9999) whose payload starts with `seq` (u32 BE); `size` >= 46. */
export function udpFrame(dst: Uint8Array, src: Uint8Array, seq: number, size: number, port: number = UDP_STREAM.port): Uint8Array {
  const f = new Uint8Array(size);
  const v = new DataView(f.buffer);
  f.set(dst, 0);
  f.set(src, 6);
  v.setUint16(12, UDP_STREAM.ethIpv4);
  f[14] = 0x45;
  v.setUint16(16, size - 14);
  v.setUint16(18, seq & 0xffff);
  f[22] = 64;
  f[23] = 17;
  f.set([10, 99, 0, 2], 26);
  f.set([10, 99, 0, 1], 30);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += v.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(24, ~sum & 0xffff);
  v.setUint16(34, 40000);
  v.setUint16(36, port);
  v.setUint16(38, size - 34);
  v.setUint32(UDP_STREAM.headers, seq);
  for (let i = UDP_STREAM.headers + 4; i < size; i++) f[i] = (seq * 7 + i) & 0xff;
  return f;
}
