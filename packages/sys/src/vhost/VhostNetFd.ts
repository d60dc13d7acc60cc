import { VnicError } from '@vnic/core';
import { closeFd } from '../fd/closeFd.ts';
import { openFd } from '../fd/openFd.ts';
import { E2BIG, EBUSY, EFAULT, EINVAL, ENODEV, ENOENT, ENOTTY, EOPNOTSUPP } from '../linux/errno.ts';
import { O_RDWR } from '../linux/fcntl.ts';
import {
  VHOST_DEFAULT_MAX_MEM_REGIONS,
  VHOST_GET_FEATURES,
  VHOST_GET_VRING_BASE,
  VHOST_MEMORY_REGION_SIZE,
  VHOST_MEMORY_SIZE,
  VHOST_NET_SET_BACKEND,
  VHOST_RESET_OWNER,
  VHOST_SET_FEATURES,
  VHOST_SET_LOG_BASE,
  VHOST_SET_MEM_TABLE,
  VHOST_SET_OWNER,
  VHOST_SET_VRING_ADDR,
  VHOST_SET_VRING_BASE,
  VHOST_SET_VRING_CALL,
  VHOST_SET_VRING_ERR,
  VHOST_SET_VRING_KICK,
  VHOST_SET_VRING_NUM,
  VHOST_VRING_ADDR_AVAIL,
  VHOST_VRING_ADDR_DESC,
  VHOST_VRING_ADDR_FLAGS,
  VHOST_VRING_ADDR_LOG,
  VHOST_VRING_ADDR_SIZE,
  VHOST_VRING_ADDR_USED,
  VHOST_VRING_FILE_SIZE,
  VHOST_VRING_STATE_SIZE,
} from '../linux/vhost.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';

/** One region of VHOST_SET_MEM_TABLE (`struct vhost_memory_region`). */
export interface VhostMemoryRegion {
  /** guest_phys_addr: guest-physical address of the first byte. */
  readonly guestPhysAddr: bigint;
  /** memory_size: bytes. */
  readonly memorySize: bigint;
  /** userspace_addr: where THIS process maps the region (the kernel worker uses our mm). */
  readonly userspaceAddr: bigint;
}

/** The ring addresses of VHOST_SET_VRING_ADDR (`struct vhost_vring_addr`), process virtual addresses. */
export interface VhostVringAddrInit {
  /** VHOST_VRING_F_LOG bit (1 << 0) or 0. */
  readonly flags: number;
  /** desc_user_addr. */
  readonly descUserAddr: bigint;
  /** used_user_addr. */
  readonly usedUserAddr: bigint;
  /** avail_user_addr. */
  readonly availUserAddr: bigint;
  /** log_guest_addr (guest-physical, used with VHOST_VRING_F_LOG only). */
  readonly logGuestAddr: bigint;
}

/** The character device of the kernel vhost-net driver. */
export const VHOST_NET_PATH = '/dev/vhost-net';

const OPEN_HINTS: ReadonlyMap<number, string> = new Map([
  [ENOENT, `${VHOST_NET_PATH} not found: load the vhost_net module (modprobe vhost_net)`],
  [ENODEV, `${VHOST_NET_PATH} has no driver behind it: load the vhost_net module (modprobe vhost_net)`],
]);

const IOCTL_HINTS: ReadonlyMap<number, string> = new Map([
  [EFAULT, 'the kernel could not access an address: a ring or memory region is not mapped in this process'],
  [EINVAL, 'the kernel rejected an argument: ring size, ring index, alignment or a memory region'],
  [EOPNOTSUPP, 'the kernel does not support these features (mask them with VHOST_GET_FEATURES first)'],
  [E2BIG, `too many memory regions (the vhost module allows max_mem_regions, default ${VHOST_DEFAULT_MAX_MEM_REGIONS})`],
  [EBUSY, 'the device already has an owner (VHOST_SET_OWNER twice, or another process owns it)'],
  [ENOTTY, 'the fd is not a /dev/vhost-net fd'],
]);

const U32_MAX = 0xffff_ffff;

// NATIVE: every argument struct below is a JS buffer allocated per call, read (or, for the GET
// requests, written) by the kernel during the synchronous ioctl only; nothing keeps a pointer.

/**
 * One /dev/vhost-net fd (linux/vhost.h): the kernel data plane of up to one RX/TX queue pair
 * (local vring 0 = RX, 1 = TX). Each method is one ioctl; a failure is a SysError naming the
 * request (`ioctl VHOST_SET_VRING_ADDR /dev/vhost-net fd 31: EFAULT (14) — ...`). Owns its fd
 * (close() releases it; the kernel then stops the worker and drops every reference).
 */
export class VhostNetFd {
  #fd: number;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /**
   * Opens /dev/vhost-net (O_RDWR|O_CLOEXEC). A missing node fails with a SysError whose hint
   * says to load the vhost_net module.
   */
  static open(path: string = VHOST_NET_PATH): VhostNetFd {
    let fd: number;
    try {
      fd = openFd(path, O_RDWR);
    } catch (e) {
      if (SysError.is(e)) {
        const hint = OPEN_HINTS.get(e.errno);
        if (hint !== undefined) throw new SysError({ syscall: 'open', errno: e.errno, target: path, hint: hint.replace(VHOST_NET_PATH, path) });
      }
      throw e;
    }
    return new VhostNetFd(fd);
  }

  /** Wraps a /dev/vhost-net fd opened elsewhere (a VMM handing it in); takes ownership. */
  static fromFd(fd: number): VhostNetFd {
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fff_ffff) throw new VnicError('invalid-argument', `vhost-net fd ${fd} is not a valid fd`);
    return new VhostNetFd(fd);
  }

  /** The fd (throws once closed). */
  get fd(): number {
    if (this.#fd < 0) throw new VnicError('invalid-state', 'vhost-net fd is closed');
    return this.#fd;
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** VHOST_SET_OWNER: binds the device to this process (its memory) and starts the kernel worker. */
  setOwner(): void {
    this.#ioctlInt(VHOST_SET_OWNER, 'VHOST_SET_OWNER', 0);
  }

  /** VHOST_RESET_OWNER: stops the worker and forgets owner, memory table and rings. */
  resetOwner(): void {
    this.#ioctlInt(VHOST_RESET_OWNER, 'VHOST_RESET_OWNER', 0);
  }

  /** VHOST_GET_FEATURES: the virtio (and VHOST_*) feature bits the kernel supports. */
  getFeatures(): bigint {
    const out = new BigUint64Array(1);
    this.#ioctl(VHOST_GET_FEATURES, 'VHOST_GET_FEATURES', out);
    return out[0]!;
  }

  /** VHOST_SET_FEATURES: the features in use (a subset of getFeatures(), else EOPNOTSUPP). */
  setFeatures(features: bigint): void {
    if (features < 0n || features >= 1n << 64n) throw new VnicError('invalid-argument', `vhost features 0x${features.toString(16)} do not fit in 64 bits`);
    this.#ioctl(VHOST_SET_FEATURES, 'VHOST_SET_FEATURES', BigUint64Array.of(features));
  }

  /** VHOST_SET_MEM_TABLE: the guest memory map, each region with this process's mapping address. */
  setMemTable(regions: readonly VhostMemoryRegion[]): void {
    if (regions.length === 0) throw new VnicError('invalid-argument', 'VHOST_SET_MEM_TABLE needs at least one region');
    const buf = Buffer.alloc(VHOST_MEMORY_SIZE + regions.length * VHOST_MEMORY_REGION_SIZE);
    buf.writeUInt32LE(regions.length, 0);
    regions.forEach((r, i) => {
      const at = VHOST_MEMORY_SIZE + i * VHOST_MEMORY_REGION_SIZE;
      buf.writeBigUInt64LE(r.guestPhysAddr, at);
      buf.writeBigUInt64LE(r.memorySize, at + 8);
      buf.writeBigUInt64LE(r.userspaceAddr, at + 16);
      // flags_padding stays 0
    });
    this.#ioctl(VHOST_SET_MEM_TABLE, 'VHOST_SET_MEM_TABLE', buf);
  }

  /**
   * VHOST_SET_LOG_BASE: the dirty log's address in this process (`DirtyLog.hostAddr`), which the
   * kernel writes through this process's mapping (bit `page % 8` of byte `page / 8`, one bit per
   * 4 KiB guest-physical page) while VHOST_F_LOG_ALL is set; 0n drops the pointer.
   */
  setLogBase(addr: bigint): void {
    if (addr < 0n || addr >= 1n << 64n) throw new VnicError('invalid-argument', `VHOST_SET_LOG_BASE: address 0x${addr.toString(16)} does not fit in 64 bits`);
    this.#ioctl(VHOST_SET_LOG_BASE, 'VHOST_SET_LOG_BASE', BigUint64Array.of(addr));
  }

  /** VHOST_SET_VRING_NUM: the size of local vring `index`. */
  setVringNum(index: number, num: number): void {
    this.#ioctl(VHOST_SET_VRING_NUM, 'VHOST_SET_VRING_NUM', vringState(index, num));
  }

  /** VHOST_SET_VRING_BASE: the avail index local vring `index` resumes from. */
  setVringBase(index: number, base: number): void {
    this.#ioctl(VHOST_SET_VRING_BASE, 'VHOST_SET_VRING_BASE', vringState(index, base));
  }

  /** VHOST_GET_VRING_BASE: the next avail index of local vring `index` (read after the backend detached). */
  getVringBase(index: number): number {
    const s = vringState(index, 0);
    this.#ioctl(VHOST_GET_VRING_BASE, 'VHOST_GET_VRING_BASE', s);
    return s.readUInt32LE(4);
  }

  /** VHOST_SET_VRING_ADDR: desc/avail/used addresses (in this process) of local vring `index`. */
  setVringAddr(index: number, addr: VhostVringAddrInit): void {
    const buf = Buffer.alloc(VHOST_VRING_ADDR_SIZE);
    buf.writeUInt32LE(u32(index, 'vring index'), 0);
    buf.writeUInt32LE(u32(addr.flags, 'vring flags'), VHOST_VRING_ADDR_FLAGS);
    buf.writeBigUInt64LE(addr.descUserAddr, VHOST_VRING_ADDR_DESC);
    buf.writeBigUInt64LE(addr.usedUserAddr, VHOST_VRING_ADDR_USED);
    buf.writeBigUInt64LE(addr.availUserAddr, VHOST_VRING_ADDR_AVAIL);
    buf.writeBigUInt64LE(addr.logGuestAddr, VHOST_VRING_ADDR_LOG);
    this.#ioctl(VHOST_SET_VRING_ADDR, 'VHOST_SET_VRING_ADDR', buf);
  }

  /** VHOST_SET_VRING_KICK: the eventfd the guest notifies local vring `index` with (-1 unbinds). */
  setVringKick(index: number, fd: number): void {
    this.#ioctl(VHOST_SET_VRING_KICK, 'VHOST_SET_VRING_KICK', vringFile(index, fd));
  }

  /** VHOST_SET_VRING_CALL: the eventfd the kernel signals when it used buffers of local vring `index` (-1 unbinds). */
  setVringCall(index: number, fd: number): void {
    this.#ioctl(VHOST_SET_VRING_CALL, 'VHOST_SET_VRING_CALL', vringFile(index, fd));
  }

  /** VHOST_SET_VRING_ERR: the eventfd the kernel signals when local vring `index` is broken (-1 unbinds). */
  setVringErr(index: number, fd: number): void {
    this.#ioctl(VHOST_SET_VRING_ERR, 'VHOST_SET_VRING_ERR', vringFile(index, fd));
  }

  /** VHOST_NET_SET_BACKEND: the tap (or packet socket) fd local vring `index` moves frames to; -1 stops and detaches it. */
  setBackend(index: number, fd: number): void {
    this.#ioctl(VHOST_NET_SET_BACKEND, 'VHOST_NET_SET_BACKEND', vringFile(index, fd));
  }

  /** Closes the fd; later calls do nothing. */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    closeFd(fd);
  }

  #ioctl(request: number, name: string, arg: ArrayBufferView): void {
    const fd = this.fd;
    if (libc.ioctlPtr(fd, request, arg) < 0) {
      const errno = libc.errno();
      throw new SysError({ syscall: 'ioctl', request: name, errno, target: `${VHOST_NET_PATH} fd ${fd}`, hint: IOCTL_HINTS.get(errno) });
    }
  }

  #ioctlInt(request: number, name: string, arg: number): void {
    const fd = this.fd;
    if (libc.ioctlInt(fd, request, arg) < 0) {
      const errno = libc.errno();
      throw new SysError({ syscall: 'ioctl', request: name, errno, target: `${VHOST_NET_PATH} fd ${fd}`, hint: IOCTL_HINTS.get(errno) });
    }
  }
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new VnicError('invalid-argument', `${what} ${v} is not a u32`);
  return v;
}

/** `struct vhost_vring_state { index, num }`. */
function vringState(index: number, num: number): Buffer {
  const b = Buffer.alloc(VHOST_VRING_STATE_SIZE);
  b.writeUInt32LE(u32(index, 'vring index'), 0);
  b.writeUInt32LE(u32(num, 'vring num'), 4);
  return b;
}

/** `struct vhost_vring_file { index, fd }` (fd -1 = VHOST_FILE_UNBIND). */
function vringFile(index: number, fd: number): Buffer {
  if (!Number.isInteger(fd) || fd < -1 || fd > 0x7fff_ffff) throw new VnicError('invalid-argument', `fd ${fd} is not a file descriptor (or -1)`);
  const b = Buffer.alloc(VHOST_VRING_FILE_SIZE);
  b.writeUInt32LE(u32(index, 'vring index'), 0);
  b.writeInt32LE(fd, 4);
  return b;
}
