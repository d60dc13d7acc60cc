import type { VirtioNetConfig } from './VirtioNetConfig.ts';
import * as C from './VirtioNetConfig.ts';

/**
 * Parses `virtio_net_config` (virtio 1.2 §5.1.4) as a driver reads it; undefined when fewer than
 * VIRTIO_NET_CONFIG_SIZE bytes are given. The MAC is copied.
 */
export function decodeVirtioNetConfig(src: Uint8Array): VirtioNetConfig | undefined {
  if (src.length < C.VIRTIO_NET_CONFIG_SIZE) return undefined;
  const v = new DataView(src.buffer, src.byteOffset, src.byteLength);
  return {
    mac: src.slice(C.VIRTIO_NET_CONFIG_MAC_OFFSET, C.VIRTIO_NET_CONFIG_MAC_OFFSET + 6),
    status: v.getUint16(C.VIRTIO_NET_CONFIG_STATUS_OFFSET, true),
    maxVirtqueuePairs: v.getUint16(C.VIRTIO_NET_CONFIG_MAX_VIRTQUEUE_PAIRS_OFFSET, true),
    mtu: v.getUint16(C.VIRTIO_NET_CONFIG_MTU_OFFSET, true),
    speed: v.getUint32(C.VIRTIO_NET_CONFIG_SPEED_OFFSET, true),
    duplex: v.getUint8(C.VIRTIO_NET_CONFIG_DUPLEX_OFFSET),
  };
}
