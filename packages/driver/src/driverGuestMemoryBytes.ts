import { DRIVER_BUFFER_MAX } from './DRIVER_BUFFER_MAX.ts';

/**
 * Guest RAM the driver needs for `queuePairs` pairs (plus the control queue) of `queueSize`
 * entries, worst case (64 KiB TX slots and RX buffers), rounded up to pages.
 */
export function driverGuestMemoryBytes(options: { readonly queuePairs?: number; readonly queueSize?: number } = {}): number {
  const pairs = options.queuePairs ?? 1;
  const size = options.queueSize ?? 256;
  const perQueue = size * Math.max(DRIVER_BUFFER_MAX.txSlot, DRIVER_BUFFER_MAX.rxBuffer) + 16 * size + 8 * size + 4096;
  return Math.ceil((perQueue * (2 * pairs + 1) + (1 << 20)) / 4096) * 4096;
}
