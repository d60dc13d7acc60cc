import type { VhostUserHeader } from './VhostUserHeader.ts';
import { requestName } from './requestName.ts';
import { VHOST_USER_MAX_PAYLOAD_SIZE, VHOST_USER_NEED_REPLY_MASK, VHOST_USER_REPLY_MASK, VHOST_USER_VERSION, VHOST_USER_VERSION_MASK } from './vhost_user.ts';

/**
 * Checks the header of a backend reply to `sent`: same request code, version 1, REPLY flag set,
 * NEED_REPLY clear, payload exactly `expectedSize` bytes. Returns what is wrong, or undefined.
 */
export function validateReply(sent: number, reply: VhostUserHeader, expectedSize: number): string | undefined {
  const name = requestName(sent);
  if (reply.request !== sent) return `${name}: the reply is for ${requestName(reply.request)}, expected ${name}`;
  if ((reply.flags & VHOST_USER_VERSION_MASK) !== VHOST_USER_VERSION) {
    return `${name}: reply has protocol version ${reply.flags & VHOST_USER_VERSION_MASK}, expected ${VHOST_USER_VERSION}`;
  }
  if ((reply.flags & VHOST_USER_REPLY_MASK) === 0) return `${name}: the reply lacks the REPLY flag (flags 0x${reply.flags.toString(16)})`;
  if ((reply.flags & VHOST_USER_NEED_REPLY_MASK) !== 0) return `${name}: the reply sets NEED_REPLY (flags 0x${reply.flags.toString(16)})`;
  if (reply.size > VHOST_USER_MAX_PAYLOAD_SIZE) return `${name}: reply size ${reply.size} exceeds the ${VHOST_USER_MAX_PAYLOAD_SIZE}-byte maximum`;
  if (reply.size !== expectedSize) return `${name}: reply payload is ${reply.size} bytes, expected ${expectedSize}`;
  return undefined;
}
