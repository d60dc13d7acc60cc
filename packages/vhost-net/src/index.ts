// @vnic/vhost-net public surface (explicit barrel): the kernel vhost-net backend.
export { VhostNetDevice } from './VhostNetDevice.ts';
export { VhostNetControlPlane } from './VhostNetControlPlane.ts';
export type { VhostNetOptions } from './VhostNetOptions.ts';
export { VhostNetError } from './VhostNetError.ts';
export { validateVhostNetOptions } from './validateVhostNetOptions.ts';
export { VHOST_NET_RING_FEATURES } from './VHOST_NET_RING_FEATURES.ts';
export { vhostNetProvider } from './vhostNetProvider.ts';
export { vhostNetModule } from './vhostNetModule.ts';
