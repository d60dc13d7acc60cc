/** struct vhost_vring_state (vhost-user.rst "A vring state description"). */
export interface VhostVringState {
  /** Vring index (u32). */
  readonly index: number;
  /** Size, base, enable flag ... depending on the request (u32). */
  readonly num: number;
}
