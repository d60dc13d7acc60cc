/** An ICMP echo request or reply (RFC 792). */
export interface IcmpEcho {
  /** 8 = echo request, 0 = echo reply. */
  readonly type: 0 | 8;
  /** Identifier. */
  readonly id: number;
  /** Sequence number. */
  readonly seq: number;
  /** Data, echoed back unchanged by the replier. */
  readonly data: Uint8Array;
}
