import type { TypedEmitter } from '@vnic/core';
import type { VhostUserDeviceEventMap } from './VhostUserDeviceEventMap.ts';

/** The emitter type of VhostUserDeviceServer.events. */
export type VhostUserDeviceEvents = TypedEmitter<VhostUserDeviceEventMap>;
