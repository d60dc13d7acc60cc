import type { IcmpEcho } from './IcmpEcho.ts';
import { ipChecksum } from './ipChecksum.ts';

/** Builds an ICMP echo message (RFC 792): type, code 0, checksum over the whole message, id, seq, data. */
export function buildIcmpEcho(echo: IcmpEcho): Uint8Array {
  const out = new Uint8Array(8 + echo.data.length);
  out[0] = echo.type;
  out[4] = (echo.id >>> 8) & 0xff;
  out[5] = echo.id & 0xff;
  out[6] = (echo.seq >>> 8) & 0xff;
  out[7] = echo.seq & 0xff;
  out.set(echo.data, 8);
  const csum = ipChecksum(out);
  out[2] = csum >>> 8;
  out[3] = csum & 0xff;
  return out;
}
