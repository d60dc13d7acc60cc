import { VnicError } from '@vnic/core';

/**
 * The error class of @vnic/vhost-user. Kinds: `protocol` (a malformed or unexpected message),
 * `timeout` (no reply in time), `disconnected` (the backend went away), `backend-refused` (a
 * non-zero REPLY_ACK), `unavailable` (no backend to connect to at creation), `unsupported` (the
 * backend lacks something the config needs), `invalid-argument`, `invalid-state`. Messages name
 * the socket, the request and what was expected.
 */
export class VhostUserError extends VnicError {
  /** The brand `VhostUserError.is()` looks for (`Symbol.for`, so copies of this package agree). */
  static override readonly brand: symbol = Symbol.for('vnic.VhostUserError');
}
