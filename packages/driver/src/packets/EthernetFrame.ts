/** An Ethernet II frame (IEEE 802.3 with an EtherType), FCS excluded. */
export interface EthernetFrame {
  /** Destination MAC (6 bytes). */
  readonly dst: Uint8Array;
  /** Source MAC (6 bytes). */
  readonly src: Uint8Array;
  /** EtherType (EtherType.IPV4, EtherType.ARP, ...). */
  readonly etherType: number;
  /** Everything after the 14-byte header (padding of short frames included). */
  readonly payload: Uint8Array;
}
