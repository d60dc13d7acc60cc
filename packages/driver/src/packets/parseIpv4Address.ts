import { DriverError } from '../DriverError.ts';

/** Parses dotted-quad `a.b.c.d` into four bytes; throws an `invalid-argument` DriverError otherwise. */
export function parseIpv4Address(ip: string): Uint8Array {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255)) {
    throw new DriverError('invalid-argument', `'${ip}' is not an IPv4 address like 10.0.0.1`);
  }
  return Uint8Array.from(parts.map(Number));
}
