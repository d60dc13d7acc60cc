import type { NetNotfCoal } from './NetNotfCoal.ts';

/**
 * The receive-filter and multiqueue state the control queue sets (virtio 1.2 §5.1.6.5), as the
 * device holds it. Reset values follow QEMU: promiscuous on (a driver without VIRTIO_NET_F_CTRL_RX
 * can never turn it off), every other mode off, empty MAC tables, one active queue pair, guest
 * offloads = the acked guest offload features.
 */
export interface NetCtrlState {
  /** VIRTIO_NET_CTRL_RX_PROMISC: receive every frame. */
  readonly promisc: boolean;
  /** VIRTIO_NET_CTRL_RX_ALLMULTI: receive every multicast frame. */
  readonly allmulti: boolean;
  /** VIRTIO_NET_CTRL_RX_ALLUNI: receive every unicast frame. */
  readonly alluni: boolean;
  /** VIRTIO_NET_CTRL_RX_NOMULTI: drop multicast (not broadcast) frames. */
  readonly nomulti: boolean;
  /** VIRTIO_NET_CTRL_RX_NOUNI: drop unicast frames. */
  readonly nouni: boolean;
  /** VIRTIO_NET_CTRL_RX_NOBCAST: drop broadcast frames. */
  readonly nobcast: boolean;
  /** The default MAC (config `mac`, or the last VIRTIO_NET_CTRL_MAC_ADDR_SET). */
  readonly mac: Uint8Array;
  /** Unicast filter table (VIRTIO_NET_CTRL_MAC_TABLE_SET), at most NetDeviceBase.MAC_TABLE_ENTRIES. */
  readonly unicast: readonly Uint8Array[];
  /** Multicast filter table (VIRTIO_NET_CTRL_MAC_TABLE_SET), at most NetDeviceBase.MAC_TABLE_ENTRIES. */
  readonly multicast: readonly Uint8Array[];
  /** The driver sent more unicast entries than the table holds: accept every unicast frame. */
  readonly uniOverflow: boolean;
  /** The driver sent more multicast entries than the table holds: accept every multicast frame. */
  readonly multiOverflow: boolean;
  /**
   * VLAN filter, 4096 bits (bit `vid & 31` of word `vid >> 5`). All ones when VIRTIO_NET_F_CTRL_VLAN
   * is not negotiated (every tag accepted, §5.1.6.5.3), all zeros after negotiating it.
   */
  readonly vlans: Uint32Array;
  /** Queue pairs in use (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET); 1 after reset. */
  readonly activePairs: number;
  /** Offloads the driver accepts on receive (VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET), feature-bit mask. */
  readonly guestOffloads: bigint;
  /** Notification coalescing (VIRTIO_NET_CTRL_NOTF_COAL): all zero (off) after reset. */
  readonly notfCoal: NetNotfCoal;
}
