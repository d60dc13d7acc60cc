import { decodeVirtioNetConfig, VIRTIO_MMIO_CONFIG, VIRTIO_NET_CONFIG_SIZE, type VirtioNetConfig } from '@vnic/core';
import type { MmioWindow } from './MmioWindow.ts';

/** Reads the virtio-net config space byte by byte through the MMIO window. */
export function readMmioNetConfig(t: MmioWindow): VirtioNetConfig {
  const bytes = new Uint8Array(VIRTIO_NET_CONFIG_SIZE);
  for (let i = 0; i < bytes.length; i++) bytes[i] = t.read(VIRTIO_MMIO_CONFIG + i, 1);
  return decodeVirtioNetConfig(bytes)!;
}
