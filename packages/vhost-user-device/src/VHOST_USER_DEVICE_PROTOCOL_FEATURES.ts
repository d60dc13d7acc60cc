import { VHOST_USER_PROTOCOL_F_MQ, VHOST_USER_PROTOCOL_F_REPLY_ACK } from '@vnic/vhost-user-protocol';

/** Protocol features the device offers (GET_PROTOCOL_FEATURES): MQ (GET_QUEUE_NUM) and REPLY_ACK. */
export const VHOST_USER_DEVICE_PROTOCOL_FEATURES = (1n << BigInt(VHOST_USER_PROTOCOL_F_MQ)) | (1n << BigInt(VHOST_USER_PROTOCOL_F_REPLY_ACK));
