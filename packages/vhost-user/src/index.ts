// @vnic/vhost-user public surface (explicit barrel: `export type` for types, no `export *`).

export { VhostUserError } from './VhostUserError.ts';

export * as vhost_user from '@vnic/vhost-user-protocol/vhost_user';
// The protocol's API, re-exported by topic (each name is defined in @vnic/vhost-user-protocol).
export { VHOST_USER_HDR_SIZE, VHOST_USER_MAX_FDS, VHOST_USER_MAX_PAYLOAD_SIZE, VHOST_MEMORY_BASELINE_NREGIONS } from '@vnic/vhost-user-protocol/vhost_user';
export { VHOST_USER_VERSION, VHOST_USER_REPLY_MASK, VHOST_USER_NEED_REPLY_MASK } from '@vnic/vhost-user-protocol/vhost_user';
export { VHOST_USER_F_PROTOCOL_FEATURES, VHOST_USER_PROTOCOL_F_MQ, VHOST_USER_PROTOCOL_F_REPLY_ACK } from '@vnic/vhost-user-protocol/vhost_user';
export { VHOST_USER_PROTOCOL_F_BACKEND_REQ, VHOST_USER_PROTOCOL_F_CONFIG, VHOST_USER_PROTOCOL_F_STATUS } from '@vnic/vhost-user-protocol/vhost_user';
export { FrontendReq, BackendReq, requestName, validateReply } from '@vnic/vhost-user-protocol';
export type { VhostUserHeader, VhostVringState, VhostUserMemoryRegion, VhostUserConfigSpace } from '@vnic/vhost-user-protocol';
export { encodeMessage, decodeHeader, encodeU64, decodeU64 } from '@vnic/vhost-user-protocol';
export { encodeVringState, decodeVringState, encodeVringAddr, decodeVringAddr } from '@vnic/vhost-user-protocol';
export { encodeMemoryTable, decodeMemoryTable, encodeConfigSpace, decodeConfigSpace } from '@vnic/vhost-user-protocol';

export { BackendChannel } from './connection/BackendChannel.ts';
export type { BackendChannelHandlers } from './connection/BackendChannel.ts';
export { VhostUserConnection } from './connection/VhostUserConnection.ts';
export type { VhostUserConnectOptions } from './connection/VhostUserConnection.ts';
export type { VhostUserConnectionOptions } from './connection/VhostUserConnectionOptions.ts';
export { VhostUserListener } from './connection/VhostUserListener.ts';

export { VhostUserFrontend } from './frontend/VhostUserFrontend.ts';

export { VhostUserNetDevice } from './device/VhostUserNetDevice.ts';
export type { VhostUserOptions } from './device/VhostUserOptions.ts';
export type { BackendHandshake } from './device/BackendHandshake.ts';
export { parseVhostUserOptions } from './device/parseVhostUserOptions.ts';
export { negotiateBackend } from './device/negotiateBackend.ts';
export { VHOST_USER_NET_BACKEND_FEATURES } from './device/VHOST_USER_NET_BACKEND_FEATURES.ts';
export { vhostUserProvider } from './device/vhostUserProvider.ts';
export { vhostUserModule } from './device/vhostUserModule.ts';
