/** VhostUserConfig of GET_CONFIG/SET_CONFIG (vhost-user.rst "Virtio device config space"). */
export interface VhostUserConfigSpace {
  /** Offset in the device config space. */
  readonly offset: number;
  /** 0: writable fields; 1: live migration. */
  readonly flags: number;
  /** The config bytes (the u32 `size` field is their length, at most 256). */
  readonly payload: Uint8Array;
}
