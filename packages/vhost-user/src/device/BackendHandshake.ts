/** What the connection handshake learned about a backend. */
export interface BackendHandshake {
  /** GET_FEATURES: the backend's virtio features. */
  readonly features: bigint;
  /** Protocol features in force (offered AND wanted), 0n when the backend lacks VHOST_USER_F_PROTOCOL_FEATURES. */
  readonly protocolFeatures: bigint;
  /** GET_QUEUE_NUM (queue pairs for net), 1 without PROTOCOL_F_MQ. */
  readonly queueNum: number;
}
