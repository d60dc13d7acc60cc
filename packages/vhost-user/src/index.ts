// @vnic/vhost-user public surface (explicit barrel: `export type` for types, no `export *`).

export { VhostUserError } from './VhostUserError.ts';

export * as vhost_user from '@vnic/vhost-user-protocol/vhost_user';
export {
  VHOST_MEMORY_BASELINE_NREGIONS,
  VHOST_USER_F_PROTOCOL_FEATURES,
  VHOST_USER_HDR_SIZE,
  VHOST_USER_MAX_FDS,
  VHOST_USER_MAX_PAYLOAD_SIZE,
  VHOST_USER_NEED_REPLY_MASK,
  VHOST_USER_PROTOCOL_F_CONFIG,
  VHOST_USER_PROTOCOL_F_MQ,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_PROTOCOL_F_STATUS,
  VHOST_USER_REPLY_MASK,
  VHOST_USER_VERSION,
} from '@vnic/vhost-user-protocol/vhost_user';
export { FrontendReq } from '@vnic/vhost-user-protocol';
export { BackendReq } from '@vnic/vhost-user-protocol';
export type { VhostUserHeader } from '@vnic/vhost-user-protocol';
export type { VhostVringState } from '@vnic/vhost-user-protocol';
export type { VhostUserMemoryRegion } from '@vnic/vhost-user-protocol';
export type { VhostUserConfigSpace } from '@vnic/vhost-user-protocol';
export { encodeMessage } from '@vnic/vhost-user-protocol';
export { decodeHeader } from '@vnic/vhost-user-protocol';
export { requestName } from '@vnic/vhost-user-protocol';
export { encodeU64 } from '@vnic/vhost-user-protocol';
export { decodeU64 } from '@vnic/vhost-user-protocol';
export { encodeVringState } from '@vnic/vhost-user-protocol';
export { decodeVringState } from '@vnic/vhost-user-protocol';
export { encodeVringAddr } from '@vnic/vhost-user-protocol';
export { decodeVringAddr } from '@vnic/vhost-user-protocol';
export { encodeMemoryTable } from '@vnic/vhost-user-protocol';
export { decodeMemoryTable } from '@vnic/vhost-user-protocol';
export { encodeConfigSpace } from '@vnic/vhost-user-protocol';
export { decodeConfigSpace } from '@vnic/vhost-user-protocol';
export { validateReply } from '@vnic/vhost-user-protocol';

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
