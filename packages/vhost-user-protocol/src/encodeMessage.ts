import { VhostUserProtocolError } from './VhostUserProtocolError.ts';
import { FrontendReq } from './FrontendReq.ts';
import { VHOST_USER_HDR_SIZE, VHOST_USER_MAX_PAYLOAD_SIZE, VHOST_USER_VERSION } from './vhost_user.ts';

/**
 * One message ready for the socket: header (request, VHOST_USER_VERSION | `extraFlags`, payload
 * size) followed by the payload.
 */
export function encodeMessage(request: number, payload: Uint8Array = new Uint8Array(0), extraFlags = 0): Uint8Array {
  if (!Number.isInteger(request) || request < 0 || request > 0xffff_ffff) {
    throw new VhostUserProtocolError('invalid-argument', `vhost-user request code ${request} is not a u32`);
  }
  if (payload.length > VHOST_USER_MAX_PAYLOAD_SIZE) {
    throw new VhostUserProtocolError(
      'invalid-argument',
      `vhost-user ${FrontendReq[request] ?? request}: payload of ${payload.length} bytes exceeds ${VHOST_USER_MAX_PAYLOAD_SIZE}`,
    );
  }
  const out = new Uint8Array(VHOST_USER_HDR_SIZE + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, request, true);
  v.setUint32(4, (VHOST_USER_VERSION | extraFlags) >>> 0, true);
  v.setUint32(8, payload.length, true);
  out.set(payload, VHOST_USER_HDR_SIZE);
  return out;
}
