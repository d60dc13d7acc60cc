import type { VirtioNetDevice } from '@vnic/core';
import type { VirtioNetDriverTuning } from './VirtioNetDriverTuning.ts';

/** Options of VirtioNetDriver.create: the device, and how to set it up. */
export interface VirtioNetDriverOptions extends VirtioNetDriverTuning {
  /** The device under test, driven through a VirtioMmioTransport the driver builds. */
  readonly device: VirtioNetDevice;
  /**
   * Where create() puts guest RAM (one memfd region at `guestPhysAddr` of `size` bytes, sparse)
   * and where in it the rings and buffers start (`ramBase`, default the region's base): e.g. a
   * region above 4 GiB, rings and buffers across a 1 GiB window edge. Default: a region at 0 of
   * guestMemoryBytes().
   */
  readonly placement?: { readonly guestPhysAddr: number; readonly size: number; readonly ramBase?: number };
}
