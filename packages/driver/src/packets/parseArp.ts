import type { ArpPacket } from './ArpPacket.ts';
import { formatIpv4Address } from './formatIpv4Address.ts';

/** Parses an ARP payload; undefined unless it is an IPv4-over-Ethernet request or reply (RFC 826). */
export function parseArp(payload: Uint8Array): ArpPacket | undefined {
  if (payload.length < 28) return undefined;
  const p = payload;
  if (p[0] !== 0 || p[1] !== 1 || p[2] !== 0x08 || p[3] !== 0x00 || p[4] !== 6 || p[5] !== 4 || p[6] !== 0) return undefined;
  const op = p[7];
  if (op !== 1 && op !== 2) return undefined;
  return {
    op,
    senderMac: p.slice(8, 14),
    senderIp: formatIpv4Address(p, 14),
    targetMac: p.slice(18, 24),
    targetIp: formatIpv4Address(p, 24),
  };
}
