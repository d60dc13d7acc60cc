import { ContainerModule } from 'inversify';
import type { NetDeviceProvider } from '../device/NetDeviceProvider.ts';
import { NET_BACKEND_NAME, NET_DEVICE_PROVIDER } from './tokens.ts';

/**
 * The ContainerModule a backend package exports: binds its provider under NET_DEVICE_PROVIDER
 * named after the backend, and adds the name to NET_BACKEND_NAME. `provider` is called once,
 * lazily, when the container first resolves the backend.
 */
export function netBackendModule(backend: string, provider: () => NetDeviceProvider): ContainerModule {
  return new ContainerModule((options) => {
    options.bind(NET_DEVICE_PROVIDER).toDynamicValue(provider).inSingletonScope().whenNamed(backend);
    options.bind(NET_BACKEND_NAME).toConstantValue(backend);
  });
}
