/** Options of `new GuestNetStack(port, options)`. */
export interface GuestNetStackOptions {
  /** The stack's MAC (six bytes or `52:54:00:12:34:56`): the NIC's address. */
  readonly mac: Uint8Array | string;
  /** The stack's IPv4 address (dotted quad); every peer is assumed on the same link. */
  readonly ip: string;
  /** Datagrams queued per listened UDP port before new ones are dropped (default 65536). */
  readonly udpQueueLimit?: number;
}
