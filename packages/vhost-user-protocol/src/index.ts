// @vnic/vhost-user-protocol public surface (explicit barrel: `export type` for types, no `export *`
// except the constants namespace).

export { VhostUserProtocolError } from './VhostUserProtocolError.ts';

export * as vhost_user from './vhost_user.ts';
export {
  VHOST_MEMORY_BASELINE_NREGIONS,
  VHOST_USER_CONFIG_HDR_SIZE,
  VHOST_USER_F_PROTOCOL_FEATURES,
  VHOST_USER_HDR_SIZE,
  VHOST_USER_LOG_SIZE,
  VHOST_LOG_PAGE,
  VHOST_F_LOG_ALL,
  VHOST_VRING_F_LOG,
  VHOST_USER_PROTOCOL_F_LOG_SHMFD,
  VHOST_USER_MAX_CONFIG_SIZE,
  VHOST_USER_MAX_FDS,
  VHOST_USER_MAX_PAYLOAD_SIZE,
  VHOST_USER_MEMORY_HDR_SIZE,
  VHOST_USER_MEMORY_REGION_SIZE,
  VHOST_USER_NEED_REPLY_MASK,
  VHOST_USER_PROTOCOL_F_BACKEND_REQ,
  VHOST_USER_PROTOCOL_F_CONFIG,
  VHOST_USER_PROTOCOL_F_MQ,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_PROTOCOL_F_STATUS,
  VHOST_USER_REPLY_MASK,
  VHOST_USER_U64_SIZE,
  VHOST_USER_VERSION,
  VHOST_USER_VERSION_MASK,
  VHOST_USER_VRING_ADDR_SIZE,
  VHOST_USER_VRING_IDX_MASK,
  VHOST_USER_VRING_NOFD_MASK,
  VHOST_USER_VRING_STATE_SIZE,
} from './vhost_user.ts';
export { FrontendReq } from './FrontendReq.ts';
export { BackendReq } from './BackendReq.ts';
export type { VhostUserHeader } from './VhostUserHeader.ts';
export type { VhostVringState } from './VhostVringState.ts';
export type { VhostUserMemoryRegion } from './VhostUserMemoryRegion.ts';
export type { VhostUserConfigSpace } from './VhostUserConfigSpace.ts';
export type { VhostUserLog } from './VhostUserLog.ts';
export { encodeMessage } from './encodeMessage.ts';
export { decodeHeader } from './decodeHeader.ts';
export { requestName } from './requestName.ts';
export { encodeU64 } from './encodeU64.ts';
export { decodeU64 } from './decodeU64.ts';
export { encodeVringState } from './encodeVringState.ts';
export { decodeVringState } from './decodeVringState.ts';
export { encodeVringAddr } from './encodeVringAddr.ts';
export { decodeVringAddr } from './decodeVringAddr.ts';
export { encodeMemoryTable } from './encodeMemoryTable.ts';
export { decodeMemoryTable } from './decodeMemoryTable.ts';
export { encodeConfigSpace } from './encodeConfigSpace.ts';
export { decodeConfigSpace } from './decodeConfigSpace.ts';
export { encodeLog } from './encodeLog.ts';
export { decodeLog } from './decodeLog.ts';
export { validateReply } from './validateReply.ts';
