import { fstatSync } from 'node:fs';
import { closeFd, F_SEAL_SHRINK, fileSeals, mapGuestMemory, type MappedGuestMemory } from '@vnic/sys';
import { VHOST_LOG_PAGE, type VhostUserLog } from '@vnic/vhost-user-protocol';
import { VhostUserDeviceError } from './VhostUserDeviceError.ts';

/** Largest log vnic maps: 1 GiB of bitmap covers 32 TiB of guest-physical space. */
const MAX_LOG_BYTES = 1 << 30;

/** Bytes of bitmap that cover guest-physical addresses [0, end) at one bit per VHOST_LOG_PAGE. */
export function logBytesFor(end: number): number {
  return Math.ceil(Math.ceil(end / VHOST_LOG_PAGE) / 8);
}

/**
 * The dirty log a frontend handed over with SET_LOG_BASE (PROTOCOL_F_LOG_SHMFD): `mmapSize`
 * bytes of the fd at `mmapOffset`, mapped shared read-write into this process, one bit per
 * VHOST_LOG_PAGE of guest-physical space from address 0 (vhost-user.rst "Migration"). The IO
 * threads set bits through its host address; close() unmaps it. The fd is closed once mapped.
 */
export class FrontendLog {
  /** Host address of the first bitmap byte in this process. */
  readonly hostAddr: bigint;
  /** Bitmap bytes. */
  readonly size: number;
  private readonly mapped: MappedGuestMemory;
  private closed = false;

  private constructor(mapped: MappedGuestMemory, size: number) {
    this.mapped = mapped;
    this.size = size;
    this.hostAddr = BigInt(mapped.memory.regions[0]!.hostAddr);
  }

  /** Guest-physical bytes from 0 that the log covers. */
  get covers(): number {
    return this.size * 8 * VHOST_LOG_PAGE;
  }

  /**
   * Checks the log description against the fd (a regular file or memfd, the range inside it,
   * sealed against shrinking unless `allowUnsealed`) and against `memoryEnd` (the log must cover
   * every guest-physical byte of the memory table), then maps it. The fd is always closed. Throws
   * a VhostUserDeviceError `memory` starting with `at`.
   */
  static map(log: VhostUserLog, fd: number, at: string, options: { readonly memoryEnd: number; readonly allowUnsealed: boolean }): FrontendLog {
    try {
      let st;
      try {
        st = fstatSync(fd, { bigint: true });
      } catch (e) {
        throw new VhostUserDeviceError('memory', `${at}: fstat of the log fd failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      if (!st.isFile())
        throw new VhostUserDeviceError(
          'memory',
          `${at} rejected: the log fd is not a memfd or regular file (fstat st_mode 0o${st.mode.toString(8)}): send the fd of the dirty-log memory`,
        );
      const { mmapSize, mmapOffset } = log;
      if (mmapSize === 0n || mmapSize > BigInt(MAX_LOG_BYTES))
        throw new VhostUserDeviceError('memory', `${at} rejected: log mmap_size ${mmapSize} is not in 1..${MAX_LOG_BYTES} bytes`);
      if (mmapOffset > st.size || mmapSize > st.size - mmapOffset)
        throw new VhostUserDeviceError(
          'memory',
          `${at} rejected: the log (mmap_offset ${mmapOffset}, mmap_size ${mmapSize}) ends past the end of its fd (${st.size} bytes)`,
        );
      const need = logBytesFor(options.memoryEnd);
      if (mmapSize < BigInt(need))
        throw new VhostUserDeviceError(
          'memory',
          `${at} rejected: a log of ${mmapSize} bytes covers guest-physical addresses below 0x${(Number(mmapSize) * 8 * VHOST_LOG_PAGE).toString(16)}, ` +
            `but the memory table reaches 0x${options.memoryEnd.toString(16)} (${need} bytes of log needed)`,
        );
      if (!options.allowUnsealed) {
        const seals = fileSeals(fd);
        if (seals === undefined || (seals & F_SEAL_SHRINK) === 0)
          throw new VhostUserDeviceError(
            'memory',
            `${at} rejected: the log fd is ${seals === undefined ? 'not a sealable memfd' : `a memfd without F_SEAL_SHRINK (seals 0x${seals.toString(16)})`}: ` +
              'a frontend could shrink it and kill this process with SIGBUS on the next logged write (QEMU seals its vhost log; or `vnic serve --allow-unsealed-memory`)',
          );
      }
      const size = Number(mmapSize);
      let mapped: MappedGuestMemory;
      try {
        mapped = mapGuestMemory({ regions: [{ guestPhysAddr: 0, size, fd, fdOffset: Number(mmapOffset), hostAddr: 0n }] });
      } catch (e) {
        throw new VhostUserDeviceError('memory', `${at}: mapping the log failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      return new FrontendLog(mapped, size);
    } finally {
      closeFd(fd);
    }
  }

  /** Unmaps the log (idempotent). The IO threads must have stopped using it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.mapped.close();
  }
}
