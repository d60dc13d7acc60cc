import { ipChecksum } from './ipChecksum.ts';
import type { UdpDatagram } from './UdpDatagram.ts';
import { udpPseudoHeaderSum } from './udpPseudoHeaderSum.ts';

/**
 * Builds a UDP datagram (RFC 768) with its checksum over the IPv4 pseudo header of `srcIp` ->
 * `dstIp`, the header and the data; a computed 0 is sent as 0xffff.
 */
export function buildUdp(udp: UdpDatagram, srcIp: string, dstIp: string): Uint8Array {
  const len = 8 + udp.payload.length;
  if (len > 0xffff) throw new RangeError(`UDP payload of ${udp.payload.length} bytes exceeds 65527`);
  const out = new Uint8Array(len);
  out[0] = udp.srcPort >>> 8;
  out[1] = udp.srcPort & 0xff;
  out[2] = udp.dstPort >>> 8;
  out[3] = udp.dstPort & 0xff;
  out[4] = len >>> 8;
  out[5] = len & 0xff;
  out.set(udp.payload, 8);
  const csum = ipChecksum(out, udpPseudoHeaderSum(srcIp, dstIp, len)) || 0xffff;
  out[6] = csum >>> 8;
  out[7] = csum & 0xff;
  return out;
}
