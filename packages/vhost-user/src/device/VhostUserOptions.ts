/** The validated `"vhost-user"` section of a NIC config. */
export interface VhostUserOptions {
  /** Path of the vhost-user unix socket. */
  readonly socket: string;
  /** `client`: vnic connects to the backend's socket (DPDK net_vhost, OVS dpdkvhostuser); `server`: vnic listens and the backend connects (OVS dpdkvhostuserclient, DPDK client=1). */
  readonly mode: 'client' | 'server';
  /** Reconnect (client) or accept again (server) when the backend goes away, forever, with the link down meanwhile. */
  readonly reconnect: boolean;
  /** How long device creation waits for the backend (connect retries or accept), in ms. */
  readonly connectTimeoutMs: number;
  /** Longest wait for one reply or REPLY_ACK, in ms. */
  readonly replyTimeoutMs: number;
}
