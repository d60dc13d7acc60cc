/** One VhostUserMemoryRegion of SET_MEM_TABLE (vhost-user.rst "Memory regions description"). */
export interface VhostUserMemoryRegion {
  /** Guest-physical address of the region. */
  readonly guestPhysAddr: bigint;
  /** Size in bytes. */
  readonly memorySize: bigint;
  /** Frontend virtual address of the region (what SET_VRING_ADDR addresses are relative to). */
  readonly userspaceAddr: bigint;
  /** Offset of the region in the fd sent with it. */
  readonly mmapOffset: bigint;
}
