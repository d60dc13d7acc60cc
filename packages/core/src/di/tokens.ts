import type { NetDeviceProvider } from '../device/NetDeviceProvider.ts';
import type { Logger } from '../logging/Logger.ts';
import { token } from './token.ts';

/** The provider of one backend, bound `.whenNamed('<backend>')` by that backend's ContainerModule. */
export const NET_DEVICE_PROVIDER = token<NetDeviceProvider>('vnic.NetDeviceProvider');

/** Multi-binding: the name of every backend loaded into a container (for "known backends" errors). */
export const NET_BACKEND_NAME = token<string>('vnic.NetBackendName');

/** The Logger every backend and service of a container logs through (default: silentLogger). */
export const LOGGER = token<Logger>('vnic.Logger');
