import { DriverError } from './DriverError.ts';

/** A bump allocator over a guest-physical range: where the driver puts rings and buffers. */
export class GuestAllocator {
  private next: number;
  private readonly end: number;

  constructor(base: number, size: number) {
    this.next = base;
    this.end = base + size;
  }

  /** Reserves `bytes` aligned to `align` (a power of two); throws when guest memory is exhausted. */
  alloc(bytes: number, align = 16): number {
    const at = Math.ceil(this.next / align) * align;
    if (at + bytes > this.end) {
      throw new DriverError(
        'invalid-argument',
        `guest memory exhausted: need ${bytes} bytes at 0x${at.toString(16)}, end is 0x${this.end.toString(16)} — raise memoryBytes`,
      );
    }
    this.next = at + bytes;
    return at;
  }

  /** Bytes handed out so far, from the base. */
  get used(): number {
    return this.next;
  }
}
