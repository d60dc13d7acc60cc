import type { NetOffloads } from './NetOffloads.ts';

/** Every offload switched on: the default of a NIC config. */
export const DEFAULT_NET_OFFLOADS: NetOffloads = Object.freeze({
  csum: true,
  guestCsum: true,
  hostTso4: true,
  hostTso6: true,
  hostEcn: true,
  hostUfo: true,
  guestTso4: true,
  guestTso6: true,
  guestEcn: true,
  guestUfo: true,
});
