import type { NetDeviceConfig, VirtioNetDevice } from '@vnic/core';
import type { RingLayout, VirtioNetDriver, VirtioNetDriverOptions } from '@vnic/driver';

/** One NIC under test plus the "outside" of its data plane (a tap, a switch, a loopback wire). */
export interface ConformanceNic {
  /** The device built by the backend for the suite's NIC config. */
  readonly device: VirtioNetDevice;
  /** Sends a frame from the outside towards the guest. */
  toGuest(frame: Uint8Array): Promise<void>;
  /**
   * The next `count` test frames (ethertype TEST_ETHERTYPE) the guest sent, as they left the device.
   * Rejects after `timeoutMs`.
   */
  fromGuest(count: number, timeoutMs?: number): Promise<Uint8Array[]>;
  /** Closes the device and removes whatever the target created (taps, namespaces, peers). */
  teardown(): Promise<void>;
  /**
   * Brings a guest driver up on `device` (default: `VirtioNetDriver.create`). A target whose peer
   * needs more than DRIVER_OK before frames flow (DPDK starts a port's rings only after it acked
   * the last activation message) waits here for it.
   */
  startDriver?(options: VirtioNetDriverOptions): Promise<VirtioNetDriver>;
}

/**
 * What a backend's data plane can report back to the VMM. A data plane in another process or in
 * the kernel (vhost-user, vhost-net) has no per-queue counters and no way to say NEEDS_RESET for a
 * corrupted ring; the suite leaves out (with a printed reason) only the assertions that need them.
 */
export interface ConformanceCapabilities {
  /** stats() counts packets, bytes and malformed chains of the data plane (default true). */
  readonly dataPlaneCounters?: boolean;
  /** Ring-level corruption raises NEEDS_RESET (default true). */
  readonly reportsRingCorruption?: boolean;
}

/** What a backend provides to run the conformance suite against it. */
export interface ConformanceTarget {
  /** Backend name (test titles). */
  readonly backend: string;
  /** The ring layout every driver of the suite asks for (default `split`; `packed`: VIRTIO_F_RING_PACKED). */
  readonly ring?: RingLayout;
  /** Every driver of the suite asks for VIRTIO_F_IN_ORDER (default false). */
  readonly inOrder?: boolean;
  /** What the backend can report (all true when absent). */
  readonly capabilities?: ConformanceCapabilities;
  /** Builds a device for `config` and its outside. */
  setup(config: NetDeviceConfig): Promise<ConformanceNic>;
}
