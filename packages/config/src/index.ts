// @vnic/config public surface (explicit barrel).
import 'reflect-metadata';

export type { BackendRegistry } from './BackendRegistry.ts';
export { ConfigError } from './ConfigError.ts';
export { containerBackends } from './containerBackends.ts';
export { createNetDevices } from './createNetDevices.ts';
export type { CreateNetDevicesOptions } from './createNetDevices.ts';
export { createVnicContainer } from './createVnicContainer.ts';
export { VnicContainer } from './VnicContainer.ts';
export { vnicServicesModule } from './vnicServicesModule.ts';
export type { VnicServicesOptions } from './VnicServicesOptions.ts';
export { defineVmConfig } from './defineVmConfig.ts';
export type { VmConfigInput } from './defineVmConfig.ts';
export { defaultBackendModules } from './defaultBackendModules.ts';
export { formatPath } from './formatPath.ts';
export { isConfigObject } from './isConfigObject.ts';
export { loadVmConfig } from './loadVmConfig.ts';
export { netEntrySchema, offloadsSchema } from './netEntrySchema.ts';
export type { NetEntry } from './netEntrySchema.ts';
export { parseMac } from './parseMac.ts';
export { rateLimitSchema } from './rateLimitSchema.ts';
export { validateRateLimit } from './validateRateLimit.ts';
export { TAP_MAX_MTU } from './TAP_MAX_MTU.ts';
export { validateVmConfig } from './validateVmConfig.ts';
export type { VmConfigValidation } from './validateVmConfig.ts';
export { vmConfigSchema } from './vmConfigSchema.ts';
export type { VmConfig } from './vmConfigSchema.ts';
