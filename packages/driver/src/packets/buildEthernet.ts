import type { EthernetFrame } from './EthernetFrame.ts';

/** Ethernet header length: destination, source, EtherType. */
const ETH_HLEN = 14;
/** Smallest frame on the wire without FCS (IEEE 802.3: 64 bytes with it). */
const ETH_ZLEN = 60;

/** Builds an Ethernet II frame, zero-padded to 60 bytes (the minimum without FCS). */
export function buildEthernet(frame: EthernetFrame): Uint8Array {
  const out = new Uint8Array(Math.max(ETH_ZLEN, ETH_HLEN + frame.payload.length));
  out.set(frame.dst.subarray(0, 6), 0);
  out.set(frame.src.subarray(0, 6), 6);
  out[12] = (frame.etherType >>> 8) & 0xff;
  out[13] = frame.etherType & 0xff;
  out.set(frame.payload, ETH_HLEN);
  return out;
}
