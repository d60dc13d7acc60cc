import { onesComplementSum } from './onesComplementSum.ts';
import type { UdpDatagram } from './UdpDatagram.ts';
import { udpPseudoHeaderSum } from './udpPseudoHeaderSum.ts';

/**
 * Parses a UDP datagram carried from `srcIp` to `dstIp`; undefined when the Length field does not
 * fit or the checksum (when not 0, "none") does not verify. The payload is a zero-copy view.
 */
export function parseUdp(bytes: Uint8Array, srcIp: string, dstIp: string): UdpDatagram | undefined {
  if (bytes.length < 8) return undefined;
  const len = (bytes[4]! << 8) | bytes[5]!;
  if (len < 8 || len > bytes.length) return undefined;
  const dgram = bytes.subarray(0, len);
  if ((bytes[6]! | bytes[7]!) !== 0 && onesComplementSum(dgram, udpPseudoHeaderSum(srcIp, dstIp, len)) !== 0xffff) return undefined;
  return { srcPort: (bytes[0]! << 8) | bytes[1]!, dstPort: (bytes[2]! << 8) | bytes[3]!, payload: dgram.subarray(8) };
}
