import { ContainerModule, type ContainerModuleLoadOptions, type ResolutionContext } from 'inversify';
import type { NetDeviceProvider } from '../device/NetDeviceProvider.ts';
import { NET_BACKEND_NAME, NET_DEVICE_PROVIDER } from './tokens.ts';

/**
 * The ContainerModule a backend package exports: binds its provider under NET_DEVICE_PROVIDER
 * named after the backend, and adds the name to NET_BACKEND_NAME. `provider` is called once,
 * lazily, when the container first resolves the backend; it gets the resolution context, to take
 * the services the backend needs (`context.get(LOGGER)`, an event loop, a thread pool): that is
 * the backend's explicit inject list. `services`, when given, binds those services in the same
 * module (singletons the container deactivates on unbindAll).
 */
export function netBackendModule(
  backend: string,
  provider: (context: ResolutionContext) => NetDeviceProvider,
  services?: (options: ContainerModuleLoadOptions) => void,
): ContainerModule {
  return new ContainerModule((options) => {
    services?.(options);
    options.bind(NET_DEVICE_PROVIDER).toDynamicValue(provider).inSingletonScope().whenNamed(backend);
    options.bind(NET_BACKEND_NAME).toConstantValue(backend);
  });
}
