import { VnicError } from '@vnic/core';

/**
 * The error class of @vnic/vhost-user-protocol: a message that cannot be encoded or decoded.
 * Kinds: `protocol` (a malformed payload: wrong size, a field out of range) and
 * `invalid-argument` (a caller asked to encode something the wire format cannot carry). Messages
 * name the request and the expected shape.
 */
export class VhostUserProtocolError extends VnicError {
  /** The brand `VhostUserProtocolError.is()` looks for (`Symbol.for`, so copies of this package agree). */
  static override readonly brand: symbol = Symbol.for('vnic.VhostUserProtocolError');
}
