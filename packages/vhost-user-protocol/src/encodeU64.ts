import { VhostUserProtocolError } from './VhostUserProtocolError.ts';
import { VHOST_USER_U64_SIZE } from './vhost_user.ts';

const U64_MAX = (1n << 64n) - 1n;

/** A `u64` payload (features, queue count, status, REPLY_ACK value). */
export function encodeU64(value: bigint | number): Uint8Array {
  const big = typeof value === 'bigint' ? value : BigInt(value);
  if (big < 0n || big > U64_MAX || (typeof value === 'number' && !Number.isSafeInteger(value))) {
    throw new VhostUserProtocolError('invalid-argument', `vhost-user u64 payload ${value} is out of range`);
  }
  const out = new Uint8Array(VHOST_USER_U64_SIZE);
  new DataView(out.buffer).setBigUint64(0, big, true);
  return out;
}
