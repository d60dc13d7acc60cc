// @vnic/vhost-user-device public surface (explicit barrel: `export type` for types, no `export *`).
export { VhostUserDeviceServer } from './VhostUserDeviceServer.ts';
export type { VhostUserDeviceOptions } from './VhostUserDeviceOptions.ts';
export type { VhostUserDeviceEventMap } from './VhostUserDeviceEventMap.ts';
export type { VhostUserDeviceEvents } from './VhostUserDeviceEvents.ts';
export { VhostUserDeviceError } from './VhostUserDeviceError.ts';
export { validateVhostUserDeviceOptions, MAX_QUEUE_PAIRS } from './validateVhostUserDeviceOptions.ts';
export { vhostUserDeviceFeatures } from './vhostUserDeviceFeatures.ts';
export { VHOST_USER_DEVICE_PROTOCOL_FEATURES } from './VHOST_USER_DEVICE_PROTOCOL_FEATURES.ts';
export { checkMemoryTable } from './checkMemoryTable.ts';
export { FrontendMemory } from './FrontendMemory.ts';
export { BackendSession } from './BackendSession.ts';
export { VringTable } from './VringTable.ts';
export type { Vring } from './VringTable.ts';
export type { SessionContext } from './BackendSession.ts';
export { readFrontendMessage } from './readFrontendMessage.ts';
export type { FrontendMessage } from './readFrontendMessage.ts';
export { describeFeatures, describeProtocolFeatures } from './describeFeatures.ts';
