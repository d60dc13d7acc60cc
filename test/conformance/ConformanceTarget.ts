import type { NetDeviceConfig, VirtioNetDevice } from '@vnic/core';

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
}

/** What a backend provides to run the conformance suite against it. */
export interface ConformanceTarget {
  /** Backend name (test titles). */
  readonly backend: string;
  /** Builds a device for `config` and its outside. */
  setup(config: NetDeviceConfig): Promise<ConformanceNic>;
}
