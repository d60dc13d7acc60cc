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
  /** True when its devices apply `rateLimit` (vnic is on the data path); otherwise a configured limit is a config error. */
  readonly rateLimit?: boolean;
  /** True when its devices hold notifications back (`coalescing`: vnic signals the guest); otherwise configured coalescing is a config error. */
  readonly coalescing?: boolean;
  /** Where the frames go when vnic is not on the data path, for that error (e.g. "the host kernel's vhost worker"). */
  readonly dataPath?: string;
  /** Builds one device. Errors name the NIC id and say what to do. */
  create(config: NetDeviceConfig): Promise<VirtioNetDevice>;
}
