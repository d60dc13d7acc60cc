import { fstatSync } from 'node:fs';
import type { GuestMemory, GuestMemoryLayout } from '@vnic/core';
import { closeFd, F_SEAL_SHRINK, fileSeals, mapGuestMemory, type MappedGuestMemory } from '@vnic/sys';
import type { VhostUserMemoryRegion } from '@vnic/vhost-user-protocol';
import { checkMemoryTable } from './checkMemoryTable.ts';
import { VhostUserDeviceError } from './VhostUserDeviceError.ts';

/** Options of FrontendMemory.map. */
export interface FrontendMemoryOptions {
  /**
   * Map memfds that are not sealed against shrinking (no F_SEAL_SHRINK) and plain files. Default
   * false: a frontend that shrinks its memory after SET_MEM_TABLE would kill the process (SIGBUS).
   */
  readonly allowUnsealedMemory?: boolean;
}

/** Identity of the file behind a region (st_dev, st_ino): a re-sent table over the same files is the same memory. */
interface FileId {
  readonly dev: bigint;
  readonly ino: bigint;
}

/**
 * The frontend's memory as a SET_MEM_TABLE described it, mapped into this process (MAP_SHARED,
 * each fd at its mmap_offset): the layout the IO threads build their views from (hostAddr = this
 * process's mapping), and the translation of frontend virtual addresses (SET_VRING_ADDR) to
 * guest-physical ones (what descriptors hold). The fds are closed once mapped; close() unmaps.
 */
export class FrontendMemory {
  /** The mapped regions, in table order (fd -1: the mapping outlives the fds). */
  readonly layout: GuestMemoryLayout;
  /** Zero-copy access from the main thread (reading a used ring's idx). */
  readonly memory: GuestMemory;
  private readonly regions: readonly VhostUserMemoryRegion[];
  private readonly files: readonly FileId[];
  private readonly mapped: MappedGuestMemory;

  private constructor(regions: readonly VhostUserMemoryRegion[], files: readonly FileId[], mapped: MappedGuestMemory) {
    this.regions = regions;
    this.files = files;
    this.mapped = mapped;
    this.memory = mapped.memory;
    this.layout = {
      regions: regions.map((r, i) => ({
        guestPhysAddr: Number(r.guestPhysAddr),
        size: Number(r.memorySize),
        fd: -1,
        fdOffset: Number(r.mmapOffset),
        hostAddr: BigInt(mapped.memory.regions[i]!.hostAddr),
      })),
    };
  }

  /**
   * Checks the table (checkMemoryTable, with each fd's size from fstat) and maps it. The fds are
   * always closed, whether mapping succeeds or not. Throws a VhostUserDeviceError `memory`
   * starting with `at` (the socket and request, for messages).
   */
  static map(regions: readonly VhostUserMemoryRegion[], fds: readonly number[], at = 'SET_MEM_TABLE', options: FrontendMemoryOptions = {}): FrontendMemory {
    try {
      const stats = fds.map((fd, i) => {
        try {
          return fstatSync(fd, { bigint: true });
        } catch (e) {
          throw new VhostUserDeviceError('memory', `${at}: fstat of the fd of region ${i} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
      });
      stats.forEach((st, i) => {
        // A socket, pipe or device fd cannot stand for guest RAM (mmap fails or maps something else).
        if (!st.isFile())
          throw new VhostUserDeviceError(
            'memory',
            `${at} rejected: the fd of region ${i} is not a memfd or regular file (fstat st_mode 0o${st.mode.toString(8)}): send the fd of the guest RAM`,
          );
      });
      const problem = checkMemoryTable(
        regions,
        stats.map((s) => s.size),
      );
      if (problem !== undefined) throw new VhostUserDeviceError('memory', `${at} rejected: ${problem}`);
      if (options.allowUnsealedMemory !== true) {
        fds.forEach((fd, i) => {
          const seals = fileSeals(fd);
          if (seals === undefined || (seals & F_SEAL_SHRINK) === 0) {
            throw new VhostUserDeviceError(
              'memory',
              `${at} rejected: the fd of region ${i} is ${seals === undefined ? 'not a sealable memfd' : `a memfd without F_SEAL_SHRINK (seals 0x${seals.toString(16)})`}: ` +
                'a frontend could shrink it after SET_MEM_TABLE and kill this process with SIGBUS on the next access. ' +
                'Give the frontend sealed memory (QEMU: -object memory-backend-memfd,...,seal=on, the default), or accept the risk with `vnic serve --allow-unsealed-memory` (allowUnsealedMemory: true)',
            );
          }
        });
      }
      let mapped: MappedGuestMemory;
      try {
        mapped = mapGuestMemory({
          regions: regions.map((r, i) => ({
            guestPhysAddr: Number(r.guestPhysAddr),
            size: Number(r.memorySize),
            fd: fds[i]!,
            fdOffset: Number(r.mmapOffset),
            hostAddr: 0n,
          })),
        });
      } catch (e) {
        throw new VhostUserDeviceError('memory', `${at}: mapping the regions failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      return new FrontendMemory(
        regions,
        stats.map((s) => ({ dev: s.dev, ino: s.ino })),
        mapped,
      );
    } finally {
      for (const fd of fds) closeFd(fd);
    }
  }

  /** One past the highest guest-physical address of the table (what a dirty log must cover). */
  get end(): number {
    let end = 0;
    for (const r of this.layout.regions) end = Math.max(end, r.guestPhysAddr + r.size);
    return end;
  }

  /** True when `regions` over `fds` describe exactly this memory (QEMU sends the table once per queue pair). */
  sameAs(regions: readonly VhostUserMemoryRegion[], fds: readonly number[]): boolean {
    if (regions.length !== this.regions.length || fds.length !== regions.length) return false;
    return regions.every((r, i) => {
      const mine = this.regions[i]!;
      if (
        r.guestPhysAddr !== mine.guestPhysAddr ||
        r.memorySize !== mine.memorySize ||
        r.userspaceAddr !== mine.userspaceAddr ||
        r.mmapOffset !== mine.mmapOffset
      )
        return false;
      try {
        const s = fstatSync(fds[i]!, { bigint: true });
        return s.dev === this.files[i]!.dev && s.ino === this.files[i]!.ino;
      } catch {
        return false;
      }
    });
  }

  /**
   * The guest-physical address of `len` bytes at frontend virtual address `userAddr`, which must
   * lie inside one region (overflow-safe); undefined otherwise.
   */
  translate(userAddr: bigint, len: number): number | undefined {
    const n = BigInt(len);
    for (const r of this.regions) {
      if (userAddr >= r.userspaceAddr && userAddr - r.userspaceAddr + n <= r.memorySize) return Number(r.guestPhysAddr + (userAddr - r.userspaceAddr));
    }
    return undefined;
  }

  /** Unmaps every region (idempotent). The IO threads must have stopped. */
  close(): void {
    this.mapped.close();
  }
}
