import { VHOST_USER_PROTOCOL_F_LOG_SHMFD, VHOST_USER_PROTOCOL_F_MQ, VHOST_USER_PROTOCOL_F_REPLY_ACK } from '@vnic/vhost-user-protocol';

/**
 * Protocol features the device offers (GET_PROTOCOL_FEATURES): MQ (GET_QUEUE_NUM), REPLY_ACK and
 * LOG_SHMFD (the dirty log of a live migration as shared memory, SET_LOG_BASE with its fd).
 */
export const VHOST_USER_DEVICE_PROTOCOL_FEATURES =
  (1n << BigInt(VHOST_USER_PROTOCOL_F_MQ)) | (1n << BigInt(VHOST_USER_PROTOCOL_F_REPLY_ACK)) | (1n << BigInt(VHOST_USER_PROTOCOL_F_LOG_SHMFD));
