import type { NetCtrlRxMode } from './NetCtrlRxMode.ts';

/**
 * One decoded control-queue command (virtio 1.2 §5.1.6.5, `struct virtio_net_ctrl` minus the ack):
 * class + command + command-specific-data, as a discriminated union on `kind`.
 */
export type NetCtrlCommand =
  /** VIRTIO_NET_CTRL_RX_*: one byte, 0 (off) or 1 (on). */
  | { readonly kind: 'rx-mode'; readonly mode: NetCtrlRxMode; readonly on: boolean }
  /** VIRTIO_NET_CTRL_MAC_TABLE_SET: two `virtio_net_ctrl_mac` tables, unicast then multicast. */
  | { readonly kind: 'mac-table-set'; readonly unicast: readonly Uint8Array[]; readonly multicast: readonly Uint8Array[] }
  /** VIRTIO_NET_CTRL_MAC_ADDR_SET: the 6-byte default MAC. */
  | { readonly kind: 'mac-addr-set'; readonly mac: Uint8Array }
  /** VIRTIO_NET_CTRL_VLAN_ADD: le16 VLAN id below 4096. */
  | { readonly kind: 'vlan-add'; readonly vid: number }
  /** VIRTIO_NET_CTRL_VLAN_DEL: le16 VLAN id below 4096. */
  | { readonly kind: 'vlan-del'; readonly vid: number }
  /** VIRTIO_NET_CTRL_ANNOUNCE_ACK: no data. */
  | { readonly kind: 'announce-ack' }
  /** VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET: le16 `virtqueue_pairs`. */
  | { readonly kind: 'mq-vq-pairs-set'; readonly pairs: number }
  /** VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET: le64 offload bitmask (guest feature bit numbers). */
  | { readonly kind: 'guest-offloads-set'; readonly offloads: bigint }
  /** VIRTIO_NET_CTRL_NOTF_COAL_TX_SET / RX_SET: `struct virtio_net_ctrl_coal` for every queue of `direction`. */
  | { readonly kind: 'notf-coal-set'; readonly direction: 'tx' | 'rx'; readonly maxPackets: number; readonly maxUsecs: number }
  /** VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET: `struct virtio_net_ctrl_coal_vq` (reserved ignored, §5.1.6.5.9). */
  | { readonly kind: 'notf-coal-vq-set'; readonly vqn: number; readonly maxPackets: number; readonly maxUsecs: number }
  /** VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET: le16 vq_index (+ le16 reserved); the result follows the ack. */
  | { readonly kind: 'notf-coal-vq-get'; readonly vqn: number };
