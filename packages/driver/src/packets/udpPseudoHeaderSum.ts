import { onesComplementSum } from './onesComplementSum.ts';
import { parseIpv4Address } from './parseIpv4Address.ts';

/** The one's complement sum of the IPv4 pseudo header (RFC 768): source, destination, zero, protocol 17, UDP length. */
export function udpPseudoHeaderSum(srcIp: string, dstIp: string, udpLength: number): number {
  const p = new Uint8Array(12);
  p.set(parseIpv4Address(srcIp), 0);
  p.set(parseIpv4Address(dstIp), 4);
  p[9] = 17;
  p[10] = udpLength >>> 8;
  p[11] = udpLength & 0xff;
  return onesComplementSum(p);
}
