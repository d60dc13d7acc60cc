import { VnicError } from '@vnic/core';
import { MAP_FAILED, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../linux/mman.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';

/**
 * One shared read-write mapping of an fd range (mmap PROT_READ|PROT_WRITE, MAP_SHARED). An offset
 * that is not page aligned is mapped from the page below; `addr` is where the asked-for bytes
 * start. Internal to @vnic/sys.
 */
export class SharedMapping {
  private constructor(
    /** Start of the mapping (page aligned). */
    readonly base: bigint,
    /** Length of the mapping. */
    readonly length: number,
    /** Address of the first asked-for byte. */
    readonly addr: bigint,
  ) {}

  /** Maps `size` bytes of `fd` at `offset`. */
  static map(fd: number, size: number, offset: number, target: string): SharedMapping {
    if (!Number.isSafeInteger(size) || size <= 0) throw new VnicError('invalid-argument', `${target}: size ${size} is not a positive integer`);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new VnicError('invalid-argument', `${target}: offset ${offset} is not a non-negative integer`);
    const slack = offset % PAGE_SIZE;
    const length = size + slack;
    const base = libc.mmap(null, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset - slack);
    if (base === MAP_FAILED) throw new SysError({ syscall: 'mmap', errno: libc.errno(), target });
    return new SharedMapping(base, length, base + BigInt(slack));
  }

  /** munmap; every view of the mapping dangles afterwards. */
  unmap(target: string): void {
    if (libc.munmap(this.base, this.length) < 0) throw new SysError({ syscall: 'munmap', errno: libc.errno(), target });
  }
}
