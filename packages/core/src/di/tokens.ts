import type { NetDeviceProvider } from '../device/NetDeviceProvider.ts';
import { token } from './token.ts';

/** The provider of one backend, bound `.whenNamed('<backend>')` by that backend's ContainerModule. */
export const NET_DEVICE_PROVIDER = token<NetDeviceProvider>('vnic.NetDeviceProvider');

/** Multi-binding: the name of every backend loaded into a container (for "known backends" errors). */
export const NET_BACKEND_NAME = token<string>('vnic.NetBackendName');
