import { DirtyLog, dirtyLogSize, VnicError } from '@vnic/core';
import { checkSys } from '../checkSys.ts';
import { closeFd } from '../fd/closeFd.ts';
import { F_SEAL_GROW, F_SEAL_SHRINK, MFD_ALLOW_SEALING, MFD_CLOEXEC } from '../linux/fcntl.ts';
import { libc } from '../native/libc.ts';
import { viewHostMemory } from '../viewHostMemory.ts';
import { addFileSeals } from './fileSeals.ts';
import { SharedMapping } from './SharedMapping.ts';

/**
 * A dirty log as a VMM provides it for migration: a sealed memfd (MFD_CLOEXEC) of dirtyLogSize
 * bytes, mapped shared read-write here. `log` carries the host address (VHOST_SET_LOG_BASE, IO
 * threads) and the fd (vhost-user SET_LOG_BASE with LOG_SHMFD). Owns the fd and the mapping:
 * after close(), `log` dangles and must not be touched (stop the device's logging first).
 */
export class MemfdDirtyLog {
  /** The log over the mapping (fd and hostAddr set). */
  readonly log: DirtyLog;
  /** Bytes of the memfd (and of the mapping). */
  readonly size: number;
  #mapping: SharedMapping | undefined;
  #fd: number;

  private constructor(log: DirtyLog, size: number, mapping: SharedMapping, fd: number) {
    this.log = log;
    this.size = size;
    this.#mapping = mapping;
    this.#fd = fd;
  }

  /** memfd_create + ftruncate + seal + mmap(MAP_SHARED) of a zeroed log covering guest-physical [0, memoryEnd). */
  static create(memoryEnd: number, name = 'vnic-dirty-log'): MemfdDirtyLog {
    const size = dirtyLogSize(memoryEnd);
    if (size === 0) throw new VnicError('invalid-argument', `${name}: guest memory end ${memoryEnd} gives an empty log`);
    const fd = checkSys(libc.memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), 'memfd_create', undefined, name);
    let mapping: SharedMapping | undefined;
    try {
      checkSys(libc.ftruncate(fd, size), 'ftruncate', undefined, name);
      addFileSeals(fd, F_SEAL_SHRINK | F_SEAL_GROW);
      mapping = SharedMapping.map(fd, size, 0, name);
      // NATIVE: a view over this object's mapping; valid until close().
      const bytes = new Uint8Array(viewHostMemory(mapping.addr, size));
      return new MemfdDirtyLog(new DirtyLog({ bytes, hostAddr: mapping.addr, fd, fdOffset: 0 }), size, mapping, fd);
    } catch (e) {
      try {
        mapping?.unmap(name);
        closeFd(fd);
      } catch {
        // keep the error that made create fail
      }
      throw e;
    }
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.#mapping === undefined;
  }

  /** Unmaps the log and closes the memfd; later calls do nothing. */
  close(): void {
    const m = this.#mapping;
    if (m === undefined) return;
    this.#mapping = undefined;
    const fd = this.#fd;
    this.#fd = -1;
    try {
      m.unmap('dirty log');
    } finally {
      closeFd(fd);
    }
  }
}
