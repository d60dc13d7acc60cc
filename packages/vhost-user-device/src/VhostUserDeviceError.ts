import { VnicError } from '@vnic/core';

/**
 * The error class of @vnic/vhost-user-device. Kinds: `protocol` (the frontend sent a malformed or
 * out-of-order message: the connection is dropped, the server lives), `memory` (a SET_MEM_TABLE
 * region that overlaps another, is too small for its fd, or cannot be mapped), `tap` (the tap
 * could not be opened or configured), `unavailable` (no /dev/net/tun, no permission, the socket
 * cannot be bound), `invalid-argument` (bad options), `invalid-state`. Messages name the socket,
 * the request and what was expected.
 */
export class VhostUserDeviceError extends VnicError {
  /** The brand `VhostUserDeviceError.is()` looks for (`Symbol.for`, so copies of this package agree). */
  static override readonly brand: symbol = Symbol.for('vnic.VhostUserDeviceError');
}
