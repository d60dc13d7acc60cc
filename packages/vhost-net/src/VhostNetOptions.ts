/**
 * The `"vhost-net"` section of a NIC in the VM config (validated by `validateVhostNetOptions`).
 * Without `tap` or `tapFds` the device creates a tap named by the kernel (`vnic%d`); without
 * `vhostFds` it opens /dev/vhost-net once per queue pair.
 */
export interface VhostNetOptions {
  /** Tap interface to create, or to attach to when a persistent tap of that name exists (`%d`: the kernel picks). */
  readonly tap?: string;
  /** Tap queue fds the VMM opened (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, IFF_MULTI_QUEUE with 2+), one per queue pair. */
  readonly tapFds?: readonly number[];
  /** Make a tap the device creates outlive it (TUNSETPERSIST). Default false. */
  readonly persistent?: boolean;
  /**
   * /dev/vhost-net fds the VMM opened (not yet owned: vnic issues VHOST_SET_OWNER), one per queue
   * pair. The device works on duplicates: the VMM keeps its own.
   */
  readonly vhostFds?: readonly number[];
}
