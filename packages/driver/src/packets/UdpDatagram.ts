/** A UDP datagram (RFC 768). */
export interface UdpDatagram {
  /** Source port. */
  readonly srcPort: number;
  /** Destination port. */
  readonly dstPort: number;
  /** Data. */
  readonly payload: Uint8Array;
}
