import { GuestMemory, VnicError } from '@vnic/core';
import type { GuestMemoryLayout, GuestMemoryRegionLayout } from '@vnic/core';
import { checkSys } from '../checkSys.ts';
import { closeFd } from '../fd/closeFd.ts';
import { F_SEAL_GROW, F_SEAL_SHRINK, MFD_ALLOW_SEALING, MFD_CLOEXEC } from '../linux/fcntl.ts';
import { libc } from '../native/libc.ts';
import { viewHostMemory } from '../viewHostMemory.ts';
import { addFileSeals } from './fileSeals.ts';
import { SharedMapping } from './SharedMapping.ts';

/** Options of MemfdGuestMemory.create. */
export interface MemfdGuestMemoryOptions {
  /** The guest RAM regions (non-overlapping). */
  readonly regions: readonly { readonly guestPhysAddr: number; readonly size: number }[];
  /** memfd name, shown in /proc/<pid>/fd and /proc/<pid>/maps (default `vnic-guest-ram`). */
  readonly name?: string;
  /**
   * Seal each memfd against shrinking and growing (F_SEAL_SHRINK|F_SEAL_GROW, as QEMU's
   * memory-backend-memfd does by default), so a backend that maps it can trust its size.
   * Default true; false leaves the memfds unsealed.
   */
  readonly seal?: boolean;
}

interface Owned {
  readonly fd: number;
  readonly mapping: SharedMapping;
}

/**
 * Guest RAM as a VMM provides it: one memfd per region (MFD_CLOEXEC, fdOffset 0), mapped
 * shared read-write in this process. `layout` is what a device is activated with; `memory`
 * is a zero-copy GuestMemory over the mappings. Owns the fds and mappings: after close(),
 * `memory` and every view built from `layout` dangle and must not be touched.
 */
export class MemfdGuestMemory {
  /** fd, fdOffset and host address of every region (fds stay owned by this object). */
  readonly layout: GuestMemoryLayout;
  /** Zero-copy access to the mappings. */
  readonly memory: GuestMemory;
  private owned: Owned[];

  private constructor(layout: GuestMemoryLayout, memory: GuestMemory, owned: Owned[]) {
    this.layout = layout;
    this.memory = memory;
    this.owned = owned;
  }

  /** memfd_create + ftruncate + mmap(MAP_SHARED) per region. */
  static create(options: MemfdGuestMemoryOptions): MemfdGuestMemory {
    if (options.regions.length === 0) throw new VnicError('invalid-argument', 'guest memory needs at least one region');
    const name = options.name ?? 'vnic-guest-ram';
    const owned: Owned[] = [];
    let fd = -1;
    try {
      const regions: GuestMemoryRegionLayout[] = [];
      for (const [i, r] of options.regions.entries()) {
        const target = `${name}[${i}]`;
        if (!Number.isSafeInteger(r.size) || r.size <= 0)
          throw new VnicError('invalid-argument', `guest memory region ${i}: size ${r.size} is not a positive integer`);
        const seal = options.seal ?? true;
        fd = checkSys(libc.memfd_create(name, MFD_CLOEXEC | (seal ? MFD_ALLOW_SEALING : 0)), 'memfd_create', undefined, target);
        checkSys(libc.ftruncate(fd, r.size), 'ftruncate', undefined, target);
        if (seal) addFileSeals(fd, F_SEAL_SHRINK | F_SEAL_GROW);
        const mapping = SharedMapping.map(fd, r.size, 0, target);
        owned.push({ fd, mapping });
        fd = -1;
        regions.push({ guestPhysAddr: r.guestPhysAddr, size: r.size, fd: owned[i]!.fd, fdOffset: 0, hostAddr: mapping.addr });
      }
      const layout: GuestMemoryLayout = { regions };
      // NATIVE: views over this object's mappings; valid until close().
      const memory = GuestMemory.fromLayout(layout, (r, offset, length) => viewHostMemory(r.hostAddr + BigInt(offset), length));
      return new MemfdGuestMemory(layout, memory, owned);
    } catch (e) {
      try {
        if (fd >= 0) closeFd(fd);
        release(owned, name);
      } catch {
        // keep the error that made create fail
      }
      throw e;
    }
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.owned.length === 0;
  }

  /** Unmaps every region and closes every memfd; later calls do nothing. */
  close(): void {
    const owned = this.owned;
    this.owned = [];
    release(owned, 'guest memory');
  }
}

function release(owned: readonly Owned[], name: string): void {
  const errors: unknown[] = []; // every failure; the first is thrown
  for (const o of owned) {
    try {
      o.mapping.unmap(name);
    } catch (e) {
      errors.push(e);
    }
    try {
      closeFd(o.fd);
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw errors[0];
}
