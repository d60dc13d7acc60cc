import { VnicError } from '@vnic/core';

const brand = Symbol.for('vnic.VhostUserDeviceError');

/**
 * The error class of @vnic/vhost-user-device. Kinds: `protocol` (the frontend sent a malformed or
 * out-of-order message: the connection is dropped, the server lives), `memory` (a SET_MEM_TABLE
 * region that overlaps another, is too small for its fd, or cannot be mapped), `tap` (the tap
 * could not be opened or configured), `unavailable` (no /dev/net/tun, no permission, the socket
 * cannot be bound), `invalid-argument` (bad options), `invalid-state`. Messages name the socket,
 * the request and what was expected.
 */
export class VhostUserDeviceError extends VnicError {
  readonly [brand] = true;

  constructor(kind: string, message: string, options?: { cause?: unknown }) {
    super(kind, message, options);
  }

  /** True for a VhostUserDeviceError from any copy of this package (branded with `Symbol.for`). */
  static override is(value: unknown): value is VhostUserDeviceError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}
