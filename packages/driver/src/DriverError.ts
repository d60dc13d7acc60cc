import { VnicError } from '@vnic/core';

/** The error class of @vnic/driver (kinds: `features-refused`, `device-failed`, `timeout`, `invalid-argument`, `closed`). */
export class DriverError extends VnicError {
  /** The brand `DriverError.is()` looks for (`Symbol.for`, so copies of this package agree). */
  static override readonly brand: symbol = Symbol.for('vnic.DriverError');
}
