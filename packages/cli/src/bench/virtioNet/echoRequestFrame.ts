import { buildEthernet, buildIcmpEcho, buildIpv4, EtherType, IpProtocol } from '@vnic/driver';

/** The addresses of one echo round trip: the guest's side and the namespace's side of the tap. */
export interface EchoPath {
  /** The guest's MAC (the source of the request). */
  readonly guestMac: Uint8Array;
  /** The guest's IPv4 address (the namespace has a permanent neighbour entry for it). */
  readonly guestIp: string;
  /** The MAC of the tap inside the namespace. */
  readonly nsMac: Uint8Array;
  /** The IPv4 address of the tap inside the namespace (the kernel that answers). */
  readonly nsIp: string;
}

/** ICMP identifier of the bench's echo requests. */
export const ECHO_ID = 0x7a6e;

/**
 * A 64-byte frame (FCS excluded) holding an ICMP echo request from the guest to the namespace's
 * kernel: Ethernet II + IPv4 (20) + ICMP (8) + 22 bytes of data, id {@link ECHO_ID}, sequence `seq`.
 */
export function echoRequestFrame(path: EchoPath, seq: number): Uint8Array {
  const data = Uint8Array.from({ length: 22 }, (_, i) => (i * 13) & 0xff);
  const icmp = buildIcmpEcho({ type: 8, id: ECHO_ID, seq, data });
  const ip = buildIpv4({ src: path.guestIp, dst: path.nsIp, protocol: IpProtocol.ICMP, payload: icmp });
  return buildEthernet({ dst: path.nsMac, src: path.guestMac, etherType: EtherType.IPV4, payload: ip });
}
