import { GuestMemory } from '@vnic/core';
import type { GuestMemoryLayout } from '@vnic/core';
import { viewHostMemory } from '../viewHostMemory.ts';

/**
 * Zero-copy GuestMemory over the mappings a layout's hostAddr point to in THIS process (a
 * worker_thread of the VMM process): maps nothing, owns nothing; valid while the provider
 * keeps the memory mapped. A region of any size is viewed in windows (see GuestMemory).
 */
export function guestMemoryFromLayout(layout: GuestMemoryLayout): GuestMemory {
  // NATIVE: views over memory the layout's provider owns.
  return GuestMemory.fromLayout(layout, (r, offset, length) => viewHostMemory(r.hostAddr + BigInt(offset), length));
}
