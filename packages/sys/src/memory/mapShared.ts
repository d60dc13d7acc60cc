import { VnicError } from '@vnic/core';
import { MAP_FAILED, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../linux/mman.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';

/** One shared read-write mapping: `addr` is where the asked-for bytes start inside [base, base + length). */
export interface SharedMapping {
  readonly base: bigint;
  readonly length: number;
  readonly addr: bigint;
}

/**
 * mmap(PROT_READ|PROT_WRITE, MAP_SHARED) of `size` bytes of `fd` at `offset`; an offset that is
 * not page aligned is mapped from the page below. Internal to @vnic/sys.
 */
export function mapShared(fd: number, size: number, offset: number, target: string): SharedMapping {
  if (!Number.isSafeInteger(size) || size <= 0) throw new VnicError('invalid-argument', `${target}: size ${size} is not a positive integer`);
  if (!Number.isSafeInteger(offset) || offset < 0) throw new VnicError('invalid-argument', `${target}: offset ${offset} is not a non-negative integer`);
  const slack = offset % PAGE_SIZE;
  const length = size + slack;
  const base = libc.mmap(null, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset - slack);
  if (base === MAP_FAILED) throw new SysError({ syscall: 'mmap', errno: libc.errno(), target });
  return { base, length, addr: base + BigInt(slack) };
}

/** munmap of a mapping made by mapShared. */
export function unmapShared(mapping: SharedMapping, target: string): void {
  if (libc.munmap(mapping.base, mapping.length) < 0) throw new SysError({ syscall: 'munmap', errno: libc.errno(), target });
}
