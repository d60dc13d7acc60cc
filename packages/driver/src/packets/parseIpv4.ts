import { formatIpv4Address } from './formatIpv4Address.ts';
import type { Ipv4Packet } from './Ipv4Packet.ts';
import { onesComplementSum } from './onesComplementSum.ts';

/**
 * Parses an IPv4 datagram (RFC 791); undefined unless version is 4, IHL at least 5, Total Length
 * fits in `bytes` (Ethernet padding after it is dropped) and the header checksum verifies.
 * The payload is a zero-copy view.
 */
export function parseIpv4(bytes: Uint8Array): Ipv4Packet | undefined {
  if (bytes.length < 20 || bytes[0]! >>> 4 !== 4) return undefined;
  const ihl = (bytes[0]! & 0x0f) * 4;
  const total = (bytes[2]! << 8) | bytes[3]!;
  if (ihl < 20 || total < ihl || total > bytes.length) return undefined;
  if (onesComplementSum(bytes.subarray(0, ihl)) !== 0xffff) return undefined;
  const flags = bytes[6]!;
  return {
    src: formatIpv4Address(bytes, 12),
    dst: formatIpv4Address(bytes, 16),
    protocol: bytes[9]!,
    payload: bytes.subarray(ihl, total),
    ttl: bytes[8]!,
    id: (bytes[4]! << 8) | bytes[5]!,
    dontFragment: (flags & 0x40) !== 0,
    moreFragments: (flags & 0x20) !== 0,
    fragmentOffset: ((flags & 0x1f) << 8) | bytes[7]!,
  };
}
