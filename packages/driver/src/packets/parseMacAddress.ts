import { DriverError } from '../DriverError.ts';

/** Parses `52:54:00:12:34:56` into six bytes; throws an `invalid-argument` DriverError otherwise. */
export function parseMacAddress(mac: string): Uint8Array {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) throw new DriverError('invalid-argument', `'${mac}' is not a MAC address like 52:54:00:12:34:56`);
  return Uint8Array.from(mac.split(':').map((b) => parseInt(b, 16)));
}
