import type { GuestMemoryLayout } from '../../memory/GuestMemoryLayout.ts';

/**
 * What a freshly built device may get ready with before it takes a running NIC over
 * (VirtioNetDevice.prepareRestore): the guest memory map and the features the guest negotiated.
 */
export interface PrepareContext {
  /** Guest memory map the restore will use. */
  readonly memory: GuestMemoryLayout;
  /** The features the guest acked on the device being taken over. */
  readonly features: bigint;
}
