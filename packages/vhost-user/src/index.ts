// @vnic/vhost-user public surface (explicit barrel: `export type` for types, no `export *`).

export { VhostUserError } from './VhostUserError.ts';

export * as vhost_user from './protocol/vhost_user.ts';
export {
  VHOST_MEMORY_BASELINE_NREGIONS,
  VHOST_USER_F_PROTOCOL_FEATURES,
  VHOST_USER_HDR_SIZE,
  VHOST_USER_MAX_FDS,
  VHOST_USER_MAX_PAYLOAD_SIZE,
  VHOST_USER_NEED_REPLY_MASK,
  VHOST_USER_PROTOCOL_F_BACKEND_REQ,
  VHOST_USER_PROTOCOL_F_CONFIG,
  VHOST_USER_PROTOCOL_F_MQ,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_PROTOCOL_F_STATUS,
  VHOST_USER_REPLY_MASK,
  VHOST_USER_VERSION,
} from './protocol/vhost_user.ts';
export { FrontendReq } from './protocol/FrontendReq.ts';
export { BackendReq } from './protocol/BackendReq.ts';
export type { VhostUserHeader } from './protocol/VhostUserHeader.ts';
export type { VhostVringState } from './protocol/VhostVringState.ts';
export type { VhostUserMemoryRegion } from './protocol/VhostUserMemoryRegion.ts';
export type { VhostUserConfigSpace } from './protocol/VhostUserConfigSpace.ts';
export { encodeMessage } from './protocol/encodeMessage.ts';
export { decodeHeader } from './protocol/decodeHeader.ts';
export { requestName } from './protocol/requestName.ts';
export { encodeU64 } from './protocol/encodeU64.ts';
export { decodeU64 } from './protocol/decodeU64.ts';
export { encodeVringState } from './protocol/encodeVringState.ts';
export { decodeVringState } from './protocol/decodeVringState.ts';
export { encodeVringAddr } from './protocol/encodeVringAddr.ts';
export { decodeVringAddr } from './protocol/decodeVringAddr.ts';
export { encodeMemoryTable } from './protocol/encodeMemoryTable.ts';
export { decodeMemoryTable } from './protocol/decodeMemoryTable.ts';
export { encodeConfigSpace } from './protocol/encodeConfigSpace.ts';
export { decodeConfigSpace } from './protocol/decodeConfigSpace.ts';
export { validateReply } from './protocol/validateReply.ts';

export { EpollLoop } from './connection/EpollLoop.ts';
export { BackendChannel } from './connection/BackendChannel.ts';
export type { BackendChannelHandlers } from './connection/BackendChannel.ts';
export type { EpollHandler } from './connection/EpollLoop.ts';
export { VhostUserConnection } from './connection/VhostUserConnection.ts';
export type { VhostUserConnectOptions } from './connection/VhostUserConnection.ts';
export type { VhostUserConnectionOptions } from './connection/VhostUserConnectionOptions.ts';
export { VhostUserListener } from './connection/VhostUserListener.ts';

export { VhostUserFrontend } from './frontend/VhostUserFrontend.ts';
export { vringUserAddr } from './frontend/vringUserAddr.ts';

export { VhostUserNetDevice } from './device/VhostUserNetDevice.ts';
export type { VhostUserOptions } from './device/VhostUserOptions.ts';
export type { BackendHandshake } from './device/BackendHandshake.ts';
export { parseVhostUserOptions } from './device/parseVhostUserOptions.ts';
export { negotiateBackend } from './device/negotiateBackend.ts';
export { VHOST_USER_NET_BACKEND_FEATURES } from './device/VHOST_USER_NET_BACKEND_FEATURES.ts';
export { vhostUserProvider } from './device/vhostUserProvider.ts';
export { vhostUserModule } from './device/vhostUserModule.ts';
