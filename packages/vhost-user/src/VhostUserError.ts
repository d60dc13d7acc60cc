import { VnicError } from '@vnic/core';

const brand = Symbol.for('vnic.VhostUserError');

/**
 * The error class of @vnic/vhost-user. Kinds: `protocol` (a malformed or unexpected message),
 * `timeout` (no reply in time), `disconnected` (the backend went away), `backend-refused` (a
 * non-zero REPLY_ACK), `unavailable` (no backend to connect to at creation), `unsupported` (the
 * backend lacks something the config needs), `invalid-argument`, `invalid-state`. Messages name
 * the socket, the request and what was expected.
 */
export class VhostUserError extends VnicError {
  readonly [brand] = true;

  constructor(kind: string, message: string, options?: { cause?: unknown }) {
    super(kind, message, options);
  }

  /** True for a VhostUserError from any copy of this package (branded with `Symbol.for`). */
  static override is(value: unknown): value is VhostUserError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}
