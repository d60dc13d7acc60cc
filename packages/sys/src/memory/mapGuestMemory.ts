import { GuestMemory, VnicError } from '@vnic/core';
import type { GuestMemoryLayout, GuestMemoryRegionLayout } from '@vnic/core';
import { viewHostMemory } from '../viewHostMemory.ts';
import { SharedMapping } from './SharedMapping.ts';

/** Guest memory mapped by mapGuestMemory: the zero-copy view and the close() that unmaps it. */
export interface MappedGuestMemory {
  /** Zero-copy access; its regions' hostAddr are this mapping's addresses. */
  readonly memory: GuestMemory;
  /**
   * The layout that was mapped with every region's `hostAddr` set to THIS process's mapping (fds
   * and offsets as given): what a process that received a VMM's memfds (a device process, a
   * restore in a new process) activates or restores a device with. Valid until close().
   */
  readonly layout: GuestMemoryLayout;
  /** Unmaps every region (idempotent); `memory` dangles afterwards. */
  close(): void;
}

/**
 * Maps the fds of a layout afresh (MAP_SHARED, read-write), as an out-of-process or worker
 * consumer does (vhost-user SET_MEM_TABLE). The layout's fds stay owned by their provider.
 */
export function mapGuestMemory(layout: GuestMemoryLayout): MappedGuestMemory {
  const mappings: SharedMapping[] = [];
  const unmapAll = (): void => {
    const errors: unknown[] = []; // every failure; the first is thrown
    for (const m of mappings.splice(0)) {
      try {
        m.unmap('guest memory');
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw errors[0];
  };
  try {
    for (const [i, r] of layout.regions.entries()) {
      if (r.fd < 0) throw new VnicError('invalid-argument', `guest memory region ${i} at 0x${r.guestPhysAddr.toString(16)} has no fd to map`);
      mappings.push(SharedMapping.map(r.fd, r.size, r.fdOffset, `guest memory region ${i} (fd ${r.fd})`));
    }
    // NATIVE: views over the mappings made above; valid until close().
    const memory = new GuestMemory(
      layout.regions.map((r, i) => {
        const addr = mappings[i]!.addr;
        return {
          guestPhysAddr: r.guestPhysAddr,
          size: r.size,
          viewWindow: (offset: number, length: number) => viewHostMemory(addr + BigInt(offset), length),
          hostAddr: addr,
        };
      }),
    );
    const regions: GuestMemoryRegionLayout[] = layout.regions.map((r, i) => ({
      guestPhysAddr: r.guestPhysAddr,
      size: r.size,
      fd: r.fd,
      fdOffset: r.fdOffset,
      hostAddr: mappings[i]!.addr,
    }));
    return { memory, layout: { regions }, close: unmapAll };
  } catch (e) {
    try {
      unmapAll();
    } catch {
      // keep the error that made mapping fail
    }
    throw e;
  }
}
