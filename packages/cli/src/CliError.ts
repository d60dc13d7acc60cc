import { VnicError } from '@vnic/core';

/**
 * The error class of @vnic/cli (kinds: `command-failed`, `timeout`, `unavailable`, `invalid-argument`,
 * `invalid-state` for a peer that broke its side of a protocol).
 * Messages say what ran, what it answered and what to do.
 */
export class CliError extends VnicError {
  /** The brand `CliError.is()` looks for (`Symbol.for`, so copies of this package agree). */
  static override readonly brand: symbol = Symbol.for('vnic.CliError');
}
