/** A UDP datagram the GuestNetStack took for a listened port. */
export interface ReceivedUdp {
  /** Sender's IPv4 address. */
  readonly srcIp: string;
  /** Sender's port. */
  readonly srcPort: number;
  /** Our port it was sent to. */
  readonly dstPort: number;
  /** The data (a copy). */
  readonly payload: Uint8Array;
}
