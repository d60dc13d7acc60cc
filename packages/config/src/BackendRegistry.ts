import type { NetDeviceProvider } from '@vnic/core';

/** What validation needs to know about backends: their names and their providers. */
export interface BackendRegistry {
  /** Names of every backend available, sorted. */
  readonly names: readonly string[];
  /** The provider of `name`, or undefined when unknown. */
  provider(name: string): NetDeviceProvider | undefined;
}
