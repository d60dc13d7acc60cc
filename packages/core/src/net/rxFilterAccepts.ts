import type { NetCtrlState } from './NetCtrlState.ts';

const ETH_HLEN = 14;

/**
 * The device's receive filter, as QEMU's `receive_filter()` (hw/net/virtio-net.c): true when the
 * frame (starting at the Ethernet destination address, no virtio_net_hdr) is to be delivered.
 * The frame is the `length` bytes of `bytes` from `at` (default: all of `bytes`), so a data plane
 * can filter a frame where it lies in guest memory without making a view of it per frame.
 * Order: promiscuous accepts all; an 802.1Q tag (TPID 0x8100) must have its VLAN id set in
 * `vlans`; broadcast needs !nobcast; other multicast is dropped by nomulti, accepted by allmulti,
 * table overflow or the multicast table; unicast is dropped by nouni (own MAC included, as in
 * QEMU and §5.1.6.5.1), accepted by alluni, table overflow, the default MAC or the unicast table.
 * Frames shorter than an Ethernet header are rejected unless promiscuous.
 */
export function rxFilterAccepts(bytes: Uint8Array, state: NetCtrlState, at = 0, length = bytes.length - at): boolean {
  if (state.promisc) return true;
  if (!(at >= 0) || length < ETH_HLEN || length > bytes.length - at) return false;
  if (bytes[at + 12] === 0x81 && bytes[at + 13] === 0x00) {
    if (length < ETH_HLEN + 2) return false;
    const vid = ((bytes[at + 14]! << 8) | bytes[at + 15]!) & 0xfff;
    if ((state.vlans[vid >>> 5]! & (1 << (vid & 31))) === 0) return false;
  }
  if ((bytes[at]! & 1) !== 0) {
    if (isBroadcast(bytes, at)) return !state.nobcast;
    if (state.nomulti) return false;
    if (state.allmulti || state.multiOverflow) return true;
    return inTable(bytes, at, state.multicast);
  }
  if (state.nouni) return false;
  if (state.alluni || state.uniOverflow) return true;
  if (macEquals(bytes, at, state.mac)) return true;
  return inTable(bytes, at, state.unicast);
}

function isBroadcast(b: Uint8Array, at: number): boolean {
  return b[at] === 0xff && b[at + 1] === 0xff && b[at + 2] === 0xff && b[at + 3] === 0xff && b[at + 4] === 0xff && b[at + 5] === 0xff;
}

function macEquals(b: Uint8Array, at: number, mac: Uint8Array): boolean {
  return b[at] === mac[0] && b[at + 1] === mac[1] && b[at + 2] === mac[2] && b[at + 3] === mac[3] && b[at + 4] === mac[4] && b[at + 5] === mac[5];
}

function inTable(b: Uint8Array, at: number, table: readonly Uint8Array[]): boolean {
  for (const mac of table) if (macEquals(b, at, mac)) return true;
  return false;
}
