import type { NetCoalParams } from '../net/NetCoalParams.ts';

/**
 * The VMM's notification coalescing for a NIC, per direction (the config's `coalescing`, or
 * `device.setCoalescing`). A direction set here wins over what the guest sets with
 * VIRTIO_NET_CTRL_NOTF_COAL for every queue of that direction (the host decides the interrupt
 * budget; the guest's values are kept and VQ_GET still reports them); a direction left out runs
 * with the guest's parameters (all 0, one notification per frame, until the guest sets some).
 */
export interface NetCoalescing {
  /** Receive queues. */
  readonly rx?: NetCoalParams;
  /** Transmit queues. */
  readonly tx?: NetCoalParams;
}
