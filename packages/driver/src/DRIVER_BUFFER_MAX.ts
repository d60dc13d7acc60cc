/** Largest TX frame slot and RX buffer the driver uses: a 64 KiB GSO frame plus the virtio_net_hdr. */
export const DRIVER_BUFFER_MAX = { txSlot: 65_568, rxBuffer: 65_568 } as const;
