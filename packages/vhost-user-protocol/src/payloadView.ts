import { VhostUserProtocolError } from './VhostUserProtocolError.ts';

/** A little-endian view over a payload that must be exactly `size` bytes (`what` names it in the error). */
export function payloadView(payload: Uint8Array, size: number, what: string): DataView {
  if (payload.length !== size) {
    throw new VhostUserProtocolError('protocol', `vhost-user ${what}: payload is ${payload.length} bytes, expected ${size}`);
  }
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
}
