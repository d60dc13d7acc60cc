import type { ConfigIssue } from './ConfigIssue.ts';
import type { NetDeviceConfig } from './NetDeviceConfig.ts';
import type { VirtioNetDevice } from './VirtioNetDevice.ts';

/**
 * What each backend package binds (under the NET_DEVICE_PROVIDER token, named after its backend):
 * validation of its config section and a factory for devices.
 */
export interface NetDeviceProvider {
  /** Backend name, the value of `net[].backend`. */
  readonly backend: string;
  /** Checks the backend-specific section; paths are relative to it (e.g. `socket`). */
  validateOptions(options: Readonly<Record<string, unknown>>): readonly ConfigIssue[];
  /** Builds one device. Errors name the NIC id and say what to do. */
  create(config: NetDeviceConfig): Promise<VirtioNetDevice>;
}
