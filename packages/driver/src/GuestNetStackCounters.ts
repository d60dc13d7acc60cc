/** What a GuestNetStack has seen and done, frame by frame. */
export interface GuestNetStackCounters {
  /** Frames received from the port. */
  framesIn: number;
  /** Frames sent to the port (requests and replies). */
  framesOut: number;
  /** Frames not for this stack (another MAC or IP, another EtherType, IPv6, fragments, closed ports). */
  ignored: number;
  /** Frames that failed to parse (short, bad checksum, bad lengths). */
  malformed: number;
  /** ARP requests for our IP answered. */
  arpAnswered: number;
  /** ICMP echo requests to our IP answered. */
  echoAnswered: number;
  /** UDP datagrams queued for a listened port. */
  udpIn: number;
  /** UDP datagrams dropped because their port's queue was full. */
  udpDropped: number;
}
