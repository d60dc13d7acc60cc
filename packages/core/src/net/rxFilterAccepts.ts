import type { NetCtrlState } from './NetCtrlState.ts';

const ETH_HLEN = 14;

/**
 * The device's receive filter, as QEMU's `receive_filter()` (hw/net/virtio-net.c): true when
 * `frame` (starting at the Ethernet destination address, no virtio_net_hdr) is to be delivered.
 * Order: promiscuous accepts all; an 802.1Q tag (TPID 0x8100) must have its VLAN id set in
 * `vlans`; broadcast needs !nobcast; other multicast is dropped by nomulti, accepted by allmulti,
 * table overflow or the multicast table; unicast is dropped by nouni (own MAC included, as in
 * QEMU and §5.1.6.5.1), accepted by alluni, table overflow, the default MAC or the unicast table.
 * Frames shorter than an Ethernet header are rejected unless promiscuous.
 */
export function rxFilterAccepts(frame: Uint8Array, state: NetCtrlState): boolean {
  if (state.promisc) return true;
  if (frame.length < ETH_HLEN) return false;
  if (frame[12] === 0x81 && frame[13] === 0x00) {
    if (frame.length < ETH_HLEN + 2) return false;
    const vid = ((frame[14]! << 8) | frame[15]!) & 0xfff;
    if ((state.vlans[vid >>> 5]! & (1 << (vid & 31))) === 0) return false;
  }
  if ((frame[0]! & 1) !== 0) {
    if (isBroadcast(frame)) return !state.nobcast;
    if (state.nomulti) return false;
    if (state.allmulti || state.multiOverflow) return true;
    return inTable(frame, state.multicast);
  }
  if (state.nouni) return false;
  if (state.alluni || state.uniOverflow) return true;
  if (macEquals(frame, state.mac)) return true;
  return inTable(frame, state.unicast);
}

function isBroadcast(frame: Uint8Array): boolean {
  return frame[0] === 0xff && frame[1] === 0xff && frame[2] === 0xff && frame[3] === 0xff && frame[4] === 0xff && frame[5] === 0xff;
}

function macEquals(frame: Uint8Array, mac: Uint8Array): boolean {
  return frame[0] === mac[0] && frame[1] === mac[1] && frame[2] === mac[2] && frame[3] === mac[3] && frame[4] === mac[4] && frame[5] === mac[5];
}

function inTable(frame: Uint8Array, table: readonly Uint8Array[]): boolean {
  for (const mac of table) if (macEquals(frame, mac)) return true;
  return false;
}
