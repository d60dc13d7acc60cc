import type { IcmpEcho } from './IcmpEcho.ts';
import { onesComplementSum } from './onesComplementSum.ts';

/** Parses an ICMP echo request or reply; undefined for other ICMP types, code != 0, or a bad checksum. */
export function parseIcmpEcho(bytes: Uint8Array): IcmpEcho | undefined {
  if (bytes.length < 8) return undefined;
  const type = bytes[0];
  if ((type !== 0 && type !== 8) || bytes[1] !== 0) return undefined;
  if (onesComplementSum(bytes) !== 0xffff) return undefined;
  return { type, id: (bytes[4]! << 8) | bytes[5]!, seq: (bytes[6]! << 8) | bytes[7]!, data: bytes.subarray(8) };
}
