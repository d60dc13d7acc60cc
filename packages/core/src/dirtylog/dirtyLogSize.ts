import { VnicError } from '../errors/VnicError.ts';
import { DIRTY_LOG_PAGE_SIZE } from './DIRTY_LOG_PAGE_SIZE.ts';

/** Pages one u64 of the log covers (QEMU's VHOST_LOG_CHUNK / VHOST_LOG_PAGE). */
const PAGES_PER_CHUNK = 64;

/**
 * Bytes of dirty log that cover guest-physical addresses [0, memoryEnd): one bit per 4 KiB page,
 * rounded up to whole u64s as QEMU sizes the vhost log (vhost_get_log_size), so a reader may take
 * it 64 pages at a time. `memoryEnd` is the end of the highest guest memory region.
 */
export function dirtyLogSize(memoryEnd: number): number {
  if (!Number.isSafeInteger(memoryEnd) || memoryEnd < 0) {
    throw new VnicError('invalid-argument', `dirty log: memory end ${memoryEnd} is not a safe non-negative integer`);
  }
  const pages = Math.ceil(memoryEnd / DIRTY_LOG_PAGE_SIZE);
  return Math.ceil(pages / PAGES_PER_CHUNK) * (PAGES_PER_CHUNK / 8);
}
