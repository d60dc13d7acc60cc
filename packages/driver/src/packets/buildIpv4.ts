import { ipChecksum } from './ipChecksum.ts';
import type { Ipv4Packet } from './Ipv4Packet.ts';
import { parseIpv4Address } from './parseIpv4Address.ts';

/**
 * Builds an IPv4 datagram (RFC 791 §3.1): a 20-byte header (version 4, IHL 5, TOS 0, no options)
 * with its header checksum, followed by the payload.
 */
export function buildIpv4(packet: Ipv4Packet): Uint8Array {
  const total = 20 + packet.payload.length;
  const out = new Uint8Array(total);
  const id = packet.id ?? 0;
  out[0] = 0x45;
  out[2] = total >>> 8;
  out[3] = total & 0xff;
  out[4] = (id >>> 8) & 0xff;
  out[5] = id & 0xff;
  out[6] = packet.dontFragment === false ? 0 : 0x40;
  out[8] = packet.ttl ?? 64;
  out[9] = packet.protocol;
  out.set(parseIpv4Address(packet.src), 12);
  out.set(parseIpv4Address(packet.dst), 16);
  const csum = ipChecksum(out.subarray(0, 20));
  out[10] = csum >>> 8;
  out[11] = csum & 0xff;
  out.set(packet.payload, 20);
  return out;
}
