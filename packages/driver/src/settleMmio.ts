import type { MmioWindow } from './MmioWindow.ts';

/** Waits for the VMM to act on earlier MMIO writes (settled()), or yields once to the event loop. */
export function settleMmio(mmio: MmioWindow): Promise<void> {
  return mmio.settled?.() ?? new Promise<void>((resolve) => setImmediate(resolve));
}
