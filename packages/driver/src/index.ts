// @vnic/driver public surface (explicit barrel).
export { DriverError } from './DriverError.ts';
export { GuestAllocator } from './GuestAllocator.ts';
export { CHAIN_LEVEL_MALFORMED } from './MalformedChain.ts';
export type { MalformedChain } from './MalformedChain.ts';
export type { ReceivedFrame } from './ReceivedFrame.ts';
export { DRIVER_FEATURES, VirtioNetDriver } from './VirtioNetDriver.ts';
export type { TxLayout, VirtioNetDriverOptions } from './VirtioNetDriver.ts';
