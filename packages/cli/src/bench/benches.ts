import type { Bench } from './Bench.ts';

/**
 * Every `vnic bench <name>`, loaded on demand (a bench may pull in a backend or a VM runner).
 * Add a bench: one file exporting a `Bench`, one line here.
 */
export const benches: Readonly<Record<string, () => Promise<Bench>>> = {
  'virtio-net': async () => (await import('./virtioNetBench.ts')).virtioNetBench(),
  'vhost-user': async () => (await import('./vhostUserBench.ts')).vhostUserBench,
  'vhost-net': async () => (await import('./vhostNetBench.ts')).vhostNetBench,
  'vhost-user-device': async () => (await import('./vhostUserDeviceBench.ts')).vhostUserDeviceBench,
  state: async () => (await import('./stateBench.ts')).stateBench,
  queue: async () => (await import('./queueBench.ts')).queueBench,
};
