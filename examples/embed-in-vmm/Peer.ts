/** Whoever sits on the host side of a NIC for the example's traffic, with the addresses to use. */
export interface Peer {
  /** The peer's IPv4 address (the guest ARPs and pings it). */
  readonly ip: string;
  /** The address the guest takes on that link. */
  readonly guestIp: string;
  /** Removes the peer (called after the NIC is closed). */
  close(): Promise<void>;
}
