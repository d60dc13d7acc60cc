import type { MmioWindow } from './MmioWindow.ts';

/** Writes a 64-bit guest address as two 32-bit MMIO registers (`lo`, `hi`). */
export function writeMmioAddr(t: MmioWindow, lo: number, hi: number, addr: number): void {
  t.write(lo, 4, addr % 0x1_0000_0000);
  t.write(hi, 4, Math.floor(addr / 0x1_0000_0000));
}
