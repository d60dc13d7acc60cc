/** Ring addresses for VHOST_SET_VRING_ADDR (linux/vhost_types.h `struct vhost_vring_addr`). */
export interface VhostVringAddr {
  /** VHOST_VRING_F_LOG when dirty logging of the used ring is wanted. */
  readonly flags: number;
  /** Frontend (VMM) virtual address of the descriptor table. */
  readonly descUserAddr: bigint;
  /** Frontend (VMM) virtual address of the used ring. */
  readonly usedUserAddr: bigint;
  /** Frontend (VMM) virtual address of the available ring. */
  readonly availUserAddr: bigint;
  /** Guest-physical address for dirty logging of the used ring. */
  readonly logGuestAddr: bigint;
}
