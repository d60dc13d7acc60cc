// @vnic/driver public surface (explicit barrel).
export { DriverError } from './DriverError.ts';
export { GuestAllocator } from './GuestAllocator.ts';
export { CHAIN_LEVEL_MALFORMED, PACKED_CHAIN_LEVEL_MALFORMED } from './MalformedChain.ts';
export type { MalformedChain } from './MalformedChain.ts';
export type { MmioWindow } from './MmioWindow.ts';
export type { QueueEventFds } from './QueueEventFds.ts';
export type { ReceivedFrame } from './ReceivedFrame.ts';
export type { TxLayout } from './TxLayout.ts';
export type { RingLayout } from './RingLayout.ts';
export type { DriverRing } from './DriverRing.ts';
export { DRIVER_FEATURES } from './DRIVER_FEATURES.ts';
export { VirtioNetDriver } from './VirtioNetDriver.ts';
export type { VirtioNetDriverOptions } from './VirtioNetDriverOptions.ts';
export type { VirtioNetDriverAttachOptions } from './VirtioNetDriverAttachOptions.ts';
export type { VirtioNetDriverTuning } from './VirtioNetDriverTuning.ts';

// Guest network stack and its frame ports.
export type { FramePort } from './FramePort.ts';
export { driverPort } from './driverPort.ts';
export { fdPort } from './fdPort.ts';
export type { ClosableFramePort } from './ClosableFramePort.ts';
export { finishRxChecksum } from './finishRxChecksum.ts';
export { GuestNetStack } from './GuestNetStack.ts';
export type { GuestNetStackCounters } from './GuestNetStackCounters.ts';
export type { GuestNetStackOptions } from './GuestNetStackOptions.ts';
export type { ReceivedUdp } from './ReceivedUdp.ts';

// Packet builders and parsers (Ethernet II, ARP, IPv4, ICMP echo, UDP).
export type { ArpPacket } from './packets/ArpPacket.ts';
export { buildArp } from './packets/buildArp.ts';
export { buildEthernet } from './packets/buildEthernet.ts';
export { buildIcmpEcho } from './packets/buildIcmpEcho.ts';
export { buildIpv4 } from './packets/buildIpv4.ts';
export { buildUdp } from './packets/buildUdp.ts';
export { EtherType } from './packets/EtherType.ts';
export type { EthernetFrame } from './packets/EthernetFrame.ts';
export { formatIpv4Address } from './packets/formatIpv4Address.ts';
export { formatMac } from './packets/formatMac.ts';
export type { IcmpEcho } from './packets/IcmpEcho.ts';
export { ipChecksum } from './packets/ipChecksum.ts';
export { IpProtocol } from './packets/IpProtocol.ts';
export type { Ipv4Packet } from './packets/Ipv4Packet.ts';
export { onesComplementSum } from './packets/onesComplementSum.ts';
export { parseArp } from './packets/parseArp.ts';
export { parseEthernet } from './packets/parseEthernet.ts';
export { parseIcmpEcho } from './packets/parseIcmpEcho.ts';
export { parseIpv4 } from './packets/parseIpv4.ts';
export { parseIpv4Address } from './packets/parseIpv4Address.ts';
export { parseMacAddress } from './packets/parseMacAddress.ts';
export { parseUdp } from './packets/parseUdp.ts';
export type { UdpDatagram } from './packets/UdpDatagram.ts';
export { udpPseudoHeaderSum } from './packets/udpPseudoHeaderSum.ts';
export { DRIVER_BUFFER_MAX } from './DRIVER_BUFFER_MAX.ts';
