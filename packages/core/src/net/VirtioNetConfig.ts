/**
 * `struct virtio_net_config` (virtio 1.2 §5.1.4) up to `duplex`: the 17 bytes vnic offers.
 * The RSS and hash fields after `duplex` are not offered (no VIRTIO_NET_F_RSS/HASH_REPORT).
 *
 * | offset | field                      |
 * |-------:|----------------------------|
 * |      0 | u8 mac[6]                  |
 * |      6 | le16 status                |
 * |      8 | le16 max_virtqueue_pairs   |
 * |     10 | le16 mtu                   |
 * |     12 | le32 speed                 |
 * |     16 | u8 duplex                  |
 */
export interface VirtioNetConfig {
  /** MAC address, six bytes (valid with VIRTIO_NET_F_MAC). */
  readonly mac: Uint8Array;
  /** VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE (with VIRTIO_NET_F_STATUS). */
  readonly status: number;
  /** Maximum number of queue pairs (with VIRTIO_NET_F_MQ), 1..0x8000. */
  readonly maxVirtqueuePairs: number;
  /** Maximum MTU (with VIRTIO_NET_F_MTU), 68..65535. */
  readonly mtu: number;
  /** Speed in Mbit/s, or VIRTIO_NET_SPEED_UNKNOWN (with VIRTIO_NET_F_SPEED_DUPLEX). */
  readonly speed: number;
  /** VIRTIO_NET_DUPLEX_FULL, _HALF or _UNKNOWN (with VIRTIO_NET_F_SPEED_DUPLEX). */
  readonly duplex: number;
}

/** §5.1.4 Offset of `mac`. */
export const VIRTIO_NET_CONFIG_MAC_OFFSET = 0;
/** §5.1.4 Offset of `status`. */
export const VIRTIO_NET_CONFIG_STATUS_OFFSET = 6;
/** §5.1.4 Offset of `max_virtqueue_pairs`. */
export const VIRTIO_NET_CONFIG_MAX_VIRTQUEUE_PAIRS_OFFSET = 8;
/** §5.1.4 Offset of `mtu`. */
export const VIRTIO_NET_CONFIG_MTU_OFFSET = 10;
/** §5.1.4 Offset of `speed`. */
export const VIRTIO_NET_CONFIG_SPEED_OFFSET = 12;
/** §5.1.4 Offset of `duplex`. */
export const VIRTIO_NET_CONFIG_DUPLEX_OFFSET = 16;
/** Bytes of config space vnic exposes (through `duplex`). */
export const VIRTIO_NET_CONFIG_SIZE = 17;
/** §5.1.4 `speed` value for an unknown speed. */
export const VIRTIO_NET_SPEED_UNKNOWN = 0xffffffff;
/** §5.1.4 `duplex` value for half duplex (linux/ethtool.h DUPLEX_HALF). */
export const VIRTIO_NET_DUPLEX_HALF = 0x00;
/** §5.1.4 `duplex` value for full duplex (linux/ethtool.h DUPLEX_FULL). */
export const VIRTIO_NET_DUPLEX_FULL = 0x01;
/** §5.1.4 `duplex` value for an unknown duplex state. */
export const VIRTIO_NET_DUPLEX_UNKNOWN = 0xff;
