/**
 * The MMIO window of one virtio-mmio device as a guest's vCPU sees it (virtio 1.2 §4.2.2): each
 * access is what a VMM forwards from an MMIO exit. A `VirtioMmioTransport` is one; a VMM's own
 * exit dispatcher (which adds the region base) is another.
 */
export interface MmioWindow {
  /** An MMIO read of `size` bytes at `offset` from the region base; the value as a u32. */
  read(offset: number, size: number): number;
  /** An MMIO write of `size` bytes of `value` at `offset` from the region base. */
  write(offset: number, size: number, value: number): void;
  /**
   * Resolves once the VMM has acted on the writes so far (a device activate or reset started by a
   * Status write runs asynchronously: `VirtioMmioTransport.settled()`). Optional: without it the
   * driver only yields to the event loop where it would wait.
   */
  settled?(): Promise<void>;
}
