import { hasFeature, virtio_net } from '@vnic/core';
import type { VhostUserFrontend } from '../frontend/VhostUserFrontend.ts';
import {
  VHOST_USER_F_PROTOCOL_FEATURES,
  VHOST_USER_PROTOCOL_F_BACKEND_REQ,
  VHOST_USER_PROTOCOL_F_CONFIG,
  VHOST_USER_PROTOCOL_F_LOG_SHMFD,
  VHOST_USER_PROTOCOL_F_MQ,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_PROTOCOL_F_STATUS,
} from '@vnic/vhost-user-protocol/vhost_user';
import { VhostUserError } from '../VhostUserError.ts';
import type { BackendHandshake } from './BackendHandshake.ts';

/** Protocol features vnic uses when the backend offers them. */
const WANTED_PROTOCOL_FEATURES = [
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_PROTOCOL_F_MQ,
  VHOST_USER_PROTOCOL_F_CONFIG,
  VHOST_USER_PROTOCOL_F_STATUS,
  VHOST_USER_PROTOCOL_F_BACKEND_REQ,
  VHOST_USER_PROTOCOL_F_LOG_SHMFD,
].reduce((m, b) => m | (1n << BigInt(b)), 0n);

/**
 * The session handshake, run on every (re)connection, in the order DPDK 22.11 accepts:
 * GET_FEATURES, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES (REPLY_ACK | MQ | CONFIG | STATUS |
 * BACKEND_REQ | LOG_SHMFD, those offered), GET_QUEUE_NUM (checked against `queuePairs`), SET_OWNER.
 */
export async function negotiateBackend(f: VhostUserFrontend, queuePairs: number): Promise<BackendHandshake> {
  const where = `vhost-user ${f.connection.path}`;
  const features = await f.getFeatures();
  let protocolFeatures = 0n;
  let queueNum = 1;
  if (hasFeature(features, VHOST_USER_F_PROTOCOL_FEATURES)) {
    const offered = await f.getProtocolFeatures();
    protocolFeatures = offered & WANTED_PROTOCOL_FEATURES;
    await f.setProtocolFeatures(protocolFeatures);
    if (hasFeature(protocolFeatures, VHOST_USER_PROTOCOL_F_MQ)) queueNum = await f.getQueueNum();
  }
  if (queuePairs > 1) {
    if (!hasFeature(protocolFeatures, VHOST_USER_PROTOCOL_F_MQ) || !hasFeature(features, virtio_net.VIRTIO_NET_F_MQ)) {
      throw new VhostUserError(
        'unsupported',
        `${where}: the config asks for ${queuePairs} queue pairs but the backend does not support multiqueue (PROTOCOL_F_MQ / VIRTIO_NET_F_MQ): set queuePairs to 1 or enable queues in the backend`,
      );
    }
    if (queueNum < queuePairs) {
      throw new VhostUserError(
        'unsupported',
        `${where}: the backend supports ${queueNum} queue pair(s) (GET_QUEUE_NUM), the config asks for ${queuePairs}: lower queuePairs or start the backend with more queues (DPDK: queues=${queuePairs})`,
      );
    }
  }
  await f.setOwner();
  return { features, protocolFeatures, queueNum };
}
