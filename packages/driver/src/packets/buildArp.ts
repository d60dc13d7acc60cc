import type { ArpPacket } from './ArpPacket.ts';
import { parseIpv4Address } from './parseIpv4Address.ts';

/**
 * Builds the 28-byte ARP payload (RFC 826) for IPv4 over Ethernet: hardware type 1, protocol
 * 0x0800, lengths 6 and 4, then op, sender MAC/IP, target MAC/IP.
 */
export function buildArp(arp: ArpPacket): Uint8Array {
  const out = new Uint8Array(28);
  out.set([0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, arp.op], 0);
  out.set(arp.senderMac.subarray(0, 6), 8);
  out.set(parseIpv4Address(arp.senderIp), 14);
  out.set(arp.targetMac.subarray(0, 6), 18);
  out.set(parseIpv4Address(arp.targetIp), 24);
  return out;
}
