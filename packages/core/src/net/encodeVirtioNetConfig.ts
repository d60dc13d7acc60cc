import { VnicError } from '../errors/VnicError.ts';
import type { VirtioNetConfig } from './VirtioNetConfig.ts';
import * as C from './VirtioNetConfig.ts';

/**
 * Lays out `virtio_net_config` (virtio 1.2 §5.1.4, 17 bytes, little-endian) into `dst` (a new
 * array when omitted) and returns it. Throws `invalid-argument` when the host passes a MAC that is
 * not six bytes or a `dst` shorter than VIRTIO_NET_CONFIG_SIZE.
 */
export function encodeVirtioNetConfig(config: VirtioNetConfig, dst: Uint8Array = new Uint8Array(C.VIRTIO_NET_CONFIG_SIZE)): Uint8Array {
  if (config.mac.length !== 6) throw new VnicError('invalid-argument', `MAC address has ${config.mac.length} bytes, expected 6`);
  if (dst.length < C.VIRTIO_NET_CONFIG_SIZE) {
    throw new VnicError('invalid-argument', `config buffer has ${dst.length} bytes, needs ${C.VIRTIO_NET_CONFIG_SIZE}`);
  }
  const v = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  dst.set(config.mac, C.VIRTIO_NET_CONFIG_MAC_OFFSET);
  v.setUint16(C.VIRTIO_NET_CONFIG_STATUS_OFFSET, config.status, true);
  v.setUint16(C.VIRTIO_NET_CONFIG_MAX_VIRTQUEUE_PAIRS_OFFSET, config.maxVirtqueuePairs, true);
  v.setUint16(C.VIRTIO_NET_CONFIG_MTU_OFFSET, config.mtu, true);
  v.setUint32(C.VIRTIO_NET_CONFIG_SPEED_OFFSET, config.speed >>> 0, true);
  v.setUint8(C.VIRTIO_NET_CONFIG_DUPLEX_OFFSET, config.duplex);
  return dst;
}
