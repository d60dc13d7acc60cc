/** An IPv4 datagram (RFC 791) without options. */
export interface Ipv4Packet {
  /** Source address, dotted quad. */
  readonly src: string;
  /** Destination address, dotted quad. */
  readonly dst: string;
  /** Protocol (IpProtocol.ICMP, IpProtocol.UDP, ...). */
  readonly protocol: number;
  /** The datagram's data (trimmed to Total Length). */
  readonly payload: Uint8Array;
  /** Time to live (default 64 when building). */
  readonly ttl?: number;
  /** Identification (default 0). */
  readonly id?: number;
  /** The DF flag (default true when building). */
  readonly dontFragment?: boolean;
  /** The MF flag (parsed; never set when building). */
  readonly moreFragments?: boolean;
  /** Fragment offset in 8-byte units (parsed; 0 when building). */
  readonly fragmentOffset?: number;
}
