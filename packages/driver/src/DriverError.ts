import { VnicError } from '@vnic/core';

/** The error class of @vnic/driver (kinds: `features-refused`, `device-failed`, `timeout`, `invalid-argument`, `closed`). */
export class DriverError extends VnicError {}
