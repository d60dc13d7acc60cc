/** Options of SwitchableNetDevice.switchBackend. */
export interface SwitchBackendOptions {
  /**
   * Ask the guest to announce itself on the new backend when it acked VIRTIO_NET_F_GUEST_ANNOUNCE
   * (a config change the guest sees). Default false: a switch on the same host changes nothing the
   * guest sees; the live fallback sets it (the NIC now sits behind another network path).
   */
  readonly announce?: boolean;
  /** Why the switch happens, for the `warning` event the switch emits (default: none is emitted). */
  readonly reason?: string;
}
