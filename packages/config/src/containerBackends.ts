import { NET_BACKEND_NAME, NET_DEVICE_PROVIDER, type NetDeviceProvider } from '@vnic/core';
import type { Container } from 'inversify';
import type { BackendRegistry } from './BackendRegistry.ts';

/** A BackendRegistry view of the backends loaded into `container`. */
export function containerBackends(container: Container): BackendRegistry {
  const names = [...new Set(container.getAll<string>(NET_BACKEND_NAME))].sort();
  const cache = new Map<string, NetDeviceProvider>();
  return {
    names,
    provider(name: string): NetDeviceProvider | undefined {
      if (!names.includes(name)) return undefined;
      let p = cache.get(name);
      if (p === undefined) {
        p = container.get<NetDeviceProvider>(NET_DEVICE_PROVIDER, { name });
        cache.set(name, p);
      }
      return p;
    },
  };
}
