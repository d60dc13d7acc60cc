/**
 * One guest RAM region as a VMM describes it to vnic. Plain data: it crosses
 * worker_threads (postMessage) and process boundaries (vhost-user SET_MEM_TABLE).
 */
export interface GuestMemoryRegionLayout {
  /** Guest-physical address of the first byte. */
  readonly guestPhysAddr: number;
  /** Size in bytes. */
  readonly size: number;
  /** The memfd (or other shareable fd) backing the region, or -1 when there is none. */
  readonly fd: number;
  /** Offset of the region inside `fd`. */
  readonly fdOffset: number;
  /** Address of the VMM's own mapping of the region (what vhost-net's SET_MEM_TABLE wants). */
  readonly hostAddr: bigint;
}

/** The guest memory map handed to a device at activation: an ordered list of regions. */
export interface GuestMemoryLayout {
  readonly regions: readonly GuestMemoryRegionLayout[];
}
