import { VnicError } from '@vnic/core';

const brand = Symbol.for('vnic.VhostUserProtocolError');

/**
 * The error class of @vnic/vhost-user-protocol: a message that cannot be encoded or decoded.
 * Kinds: `protocol` (a malformed payload: wrong size, a field out of range) and
 * `invalid-argument` (a caller asked to encode something the wire format cannot carry). Messages
 * name the request and the expected shape.
 */
export class VhostUserProtocolError extends VnicError {
  readonly [brand] = true;

  constructor(kind: string, message: string, options?: { cause?: unknown }) {
    super(kind, message, options);
  }

  /** True for a VhostUserProtocolError from any copy of this package (branded with `Symbol.for`). */
  static override is(value: unknown): value is VhostUserProtocolError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}
