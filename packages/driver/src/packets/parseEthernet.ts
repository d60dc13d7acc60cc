import type { EthernetFrame } from './EthernetFrame.ts';

/** Splits an Ethernet II frame (zero-copy views of `frame`); undefined when shorter than the header. */
export function parseEthernet(frame: Uint8Array): EthernetFrame | undefined {
  if (frame.length < 14) return undefined;
  return {
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    etherType: (frame[12]! << 8) | frame[13]!,
    payload: frame.subarray(14),
  };
}
