// @vnic/virtio-net public surface (explicit barrel): the in-process tap backend.
export { VirtioNetTapDevice } from './VirtioNetTapDevice.ts';
export type { VirtioNetOptions } from './VirtioNetOptions.ts';
export { VirtioNetError } from './VirtioNetError.ts';
export { validateVirtioNetOptions } from './validateVirtioNetOptions.ts';
export { virtioNetProvider } from './virtioNetProvider.ts';
export { virtioNetModule } from './virtioNetModule.ts';
export { shutdownIoThreads } from './shutdownIoThreads.ts';
export { TX_ENGINE_ENV } from './TX_ENGINE_ENV.ts';
