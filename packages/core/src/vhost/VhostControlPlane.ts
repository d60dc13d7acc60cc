import type { GuestMemoryLayout } from '../memory/GuestMemoryLayout.ts';
import type { VhostVringAddr } from './VhostVringAddr.ts';

/**
 * The vhost control plane shared by the kernel backend (/dev/vhost-net ioctls) and the
 * vhost-user frontend (socket messages), as rust-vmm's `VhostBackend`. Every call may fail with
 * the package's error (kind + cause); none of them throws anything else.
 */
export interface VhostControlPlane {
  /** VHOST_SET_OWNER: claims the backend for this process/connection. */
  setOwner(): Promise<void>;
  /** VHOST_RESET_OWNER: gives the backend up (optional in vhost-user). */
  resetOwner(): Promise<void>;
  /** VHOST_GET_FEATURES: the virtio features the backend supports. */
  getFeatures(): Promise<bigint>;
  /** VHOST_SET_FEATURES: the features the driver acked (masked to what the backend handles). */
  setFeatures(features: bigint): Promise<void>;
  /** VHOST_SET_MEM_TABLE: the guest memory map. */
  setMemTable(memory: GuestMemoryLayout): Promise<void>;
  /** VHOST_SET_VRING_NUM: the queue size of vring `index`. */
  setVringNum(index: number, num: number): Promise<void>;
  /** VHOST_SET_VRING_ADDR: ring addresses of vring `index`. */
  setVringAddr(index: number, addr: VhostVringAddr): Promise<void>;
  /** VHOST_SET_VRING_BASE: the next avail index vring `index` resumes from. */
  setVringBase(index: number, base: number): Promise<void>;
  /** VHOST_GET_VRING_BASE: stops vring `index` and returns its next avail index. */
  getVringBase(index: number): Promise<number>;
  /** VHOST_SET_VRING_KICK: the eventfd the guest kicks vring `index` with. */
  setVringKick(index: number, fd: number): Promise<void>;
  /** VHOST_SET_VRING_CALL: the eventfd the backend signals for vring `index`. */
  setVringCall(index: number, fd: number): Promise<void>;
  /** VHOST_SET_VRING_ERR: the eventfd the backend signals on vring `index` errors. */
  setVringErr(index: number, fd: number): Promise<void>;
}
