/** An ARP packet for IPv4 over Ethernet (RFC 826). */
export interface ArpPacket {
  /** 1 = request, 2 = reply (ar$op). */
  readonly op: 1 | 2;
  /** ar$sha */
  readonly senderMac: Uint8Array;
  /** ar$spa, dotted quad */
  readonly senderIp: string;
  /** ar$tha (zeroes in a request) */
  readonly targetMac: Uint8Array;
  /** ar$tpa, dotted quad */
  readonly targetIp: string;
}
