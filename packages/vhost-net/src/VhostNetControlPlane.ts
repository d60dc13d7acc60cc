import type { GuestMemoryLayout, VhostControlPlane, VhostVringAddr } from '@vnic/core';
import type { VhostMemoryRegion, VhostNetFd } from '@vnic/sys';
import { VhostNetError } from './VhostNetError.ts';

const U64_LIMIT = 1n << 64n;

/**
 * The shared vhost control plane (core's VhostControlPlane) over the kernel: one /dev/vhost-net fd
 * per queue pair, vring `i` of the device being local vring `i % 2` (0 = RX, 1 = TX) of fd
 * `i >> 1`. Device-wide requests (owner, features, memory table) go to every fd; getFeatures
 * answers what ALL of them support. Plus the vhost-net extra `setBackend` (VHOST_NET_SET_BACKEND),
 * as rust-vmm's `VhostNet: VhostBackend`. Every failure is a VhostNetError `vhost` naming the vring
 * and keeping the SysError (which names the request).
 */
export class VhostNetControlPlane implements VhostControlPlane {
  /** The vhost fds, one per queue pair (owned by the caller). */
  readonly fds: readonly VhostNetFd[];
  readonly #nic: string;

  constructor(nic: string, fds: readonly VhostNetFd[]) {
    this.#nic = nic;
    this.fds = fds;
  }

  async setOwner(): Promise<void> {
    this.#each((f) => f.setOwner());
  }

  async resetOwner(): Promise<void> {
    this.#each((f) => f.resetOwner());
  }

  async getFeatures(): Promise<bigint> {
    return this.getFeaturesSync();
  }

  /** VHOST_GET_FEATURES on every fd, intersected (synchronous: a single ioctl each). */
  getFeaturesSync(): bigint {
    let all = U64_LIMIT - 1n;
    this.#each((f) => {
      all &= f.getFeatures();
    });
    return all;
  }

  async setFeatures(features: bigint): Promise<void> {
    this.#each((f) => f.setFeatures(features));
  }

  /**
   * VHOST_SET_MEM_TABLE on every fd: each region's guest-physical base, size and the VMM's
   * mapping address (`hostAddr`, which must be in THIS process: the kernel worker uses its mm).
   */
  async setMemTable(memory: GuestMemoryLayout): Promise<void> {
    const regions: VhostMemoryRegion[] = memory.regions.map((r, i) => {
      const gpa = BigInt(r.guestPhysAddr);
      const size = BigInt(r.size);
      const bad = (msg: string): never => {
        throw new VhostNetError('invalid-argument', `${this.#nic}: memory region ${i} (guest 0x${r.guestPhysAddr.toString(16)}, ${r.size} bytes): ${msg}`);
      };
      if (!Number.isSafeInteger(r.guestPhysAddr) || r.guestPhysAddr < 0 || !Number.isSafeInteger(r.size) || r.size <= 0)
        bad('base and size must be non-negative safe integers, size > 0');
      if (typeof r.hostAddr !== 'bigint' || r.hostAddr <= 0n) bad('no host mapping (hostAddr): vhost-net needs the address of the VMM mapping in this process');
      if (gpa + size > U64_LIMIT || r.hostAddr + size > U64_LIMIT) bad('base + size overflows 64 bits');
      return { guestPhysAddr: gpa, memorySize: size, userspaceAddr: r.hostAddr };
    });
    this.#each((f) => f.setMemTable(regions));
  }

  /**
   * VHOST_SET_LOG_BASE on every fd (synchronous): the dirty log's address in this process, or 0n
   * to drop it. The kernel writes the log only while VHOST_F_LOG_ALL is set.
   */
  setLogBase(addr: bigint): void {
    this.#each((f) => f.setLogBase(addr));
  }

  async setVringNum(index: number, num: number): Promise<void> {
    this.#ring(index, (f, local) => f.setVringNum(local, num));
  }

  async setVringAddr(index: number, addr: VhostVringAddr): Promise<void> {
    this.#ring(index, (f, local) => f.setVringAddr(local, addr));
  }

  async setVringBase(index: number, base: number): Promise<void> {
    this.#ring(index, (f, local) => f.setVringBase(local, base));
  }

  async getVringBase(index: number): Promise<number> {
    return this.#ring(index, (f, local) => f.getVringBase(local));
  }

  async setVringKick(index: number, fd: number): Promise<void> {
    this.#ring(index, (f, local) => f.setVringKick(local, fd));
  }

  async setVringCall(index: number, fd: number): Promise<void> {
    this.#ring(index, (f, local) => f.setVringCall(local, fd));
  }

  async setVringErr(index: number, fd: number): Promise<void> {
    this.#ring(index, (f, local) => f.setVringErr(local, fd));
  }

  /** VHOST_NET_SET_BACKEND: the tap queue fd vring `index` moves frames through; -1 stops it (synchronous). */
  setBackend(index: number, fd: number): void {
    this.#ring(index, (f, local) => f.setBackend(local, fd));
  }

  /**
   * Detaches vring `index` from the tap and from the VMM's kick/call/err eventfds (-1 each), so the
   * kernel keeps no reference to them after a reset; a vring the kernel never accepted is skipped.
   */
  unbind(index: number): void {
    const f = this.fds[index >> 1];
    if (f === undefined || f.closed) return;
    const local = index & 1;
    for (const op of [() => f.setBackend(local, -1), () => f.setVringKick(local, -1), () => f.setVringCall(local, -1), () => f.setVringErr(local, -1)]) {
      try {
        op();
      } catch {
        // nothing bound there
      }
    }
  }

  #ring<T>(index: number, op: (f: VhostNetFd, local: number) => T): T {
    const f = Number.isInteger(index) && index >= 0 ? this.fds[index >> 1] : undefined;
    if (f === undefined) throw new VhostNetError('invalid-argument', `${this.#nic}: vring ${index} has no vhost fd (${this.fds.length} queue pair(s))`);
    return wrap(`${this.#nic}: queue ${index}`, () => op(f, index & 1));
  }

  #each(op: (f: VhostNetFd) => void): void {
    this.fds.forEach((f, k) => wrap(`${this.#nic}: queue pair ${k}`, () => op(f)));
  }
}

function wrap<T>(at: string, op: () => T): T {
  try {
    return op();
  } catch (e) {
    if (VhostNetError.is(e)) throw e;
    throw new VhostNetError('vhost', `${at}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
