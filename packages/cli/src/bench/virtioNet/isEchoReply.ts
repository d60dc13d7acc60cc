import { EtherType, IpProtocol, parseEthernet, parseIcmpEcho, parseIpv4 } from '@vnic/driver';
import { ECHO_ID } from './echoRequestFrame.ts';

/** True when `frame` is the namespace's ICMP echo reply to the bench's request number `seq` (checksums verified). */
export function isEchoReply(frame: Uint8Array, seq: number): boolean {
  const eth = parseEthernet(frame);
  if (eth?.etherType !== EtherType.IPV4) return false;
  const ip = parseIpv4(eth.payload);
  if (ip?.protocol !== IpProtocol.ICMP) return false;
  const echo = parseIcmpEcho(ip.payload);
  return echo?.type === 0 && echo.id === ECHO_ID && echo.seq === seq;
}
