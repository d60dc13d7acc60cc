import { VnicError } from '@vnic/core';
import { libc } from './native/libc.ts';

/** Largest view made: 2 GiB (a GuestMemory window is 1 GiB + 1 MiB by default). */
const VIEW_MAX = 2 ** 31;

/**
 * A zero-copy ArrayBuffer over `len` bytes of this process's memory at `addr` (koffi.view):
 * how a worker thread rebuilds guest memory from a layout's host addresses. The view does not
 * own the memory: using it after the mapping is unmapped crashes the process.
 */
export function viewHostMemory(addr: bigint | number, len: number): ArrayBuffer {
  if (!Number.isSafeInteger(len) || len <= 0) throw new VnicError('invalid-argument', `view length ${len} is not a positive integer`);
  // koffi aborts the process (napi error) on a view above 4 GiB: GuestMemory views big regions in windows.
  if (len > VIEW_MAX)
    throw new VnicError('invalid-argument', `view length ${len} is above ${VIEW_MAX} bytes (2 GiB): view a big region in windows (GuestMemory does)`);
  if (addr === 0 || addr === 0n) throw new VnicError('invalid-argument', 'cannot view memory at address 0');
  // NATIVE: external ArrayBuffer; the owner of the mapping (MemfdGuestMemory, the VMM) keeps it mapped.
  return libc.view(addr, len);
}
