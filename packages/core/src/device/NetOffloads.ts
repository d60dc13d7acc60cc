/**
 * Per-NIC offload switches (all on by default). Each maps to one virtio-net feature bit; an
 * offload switched off is never offered to the guest, whatever the backend supports.
 */
export interface NetOffloads {
  /** VIRTIO_NET_F_CSUM: the device completes partial checksums of frames the guest sends. */
  readonly csum: boolean;
  /** VIRTIO_NET_F_GUEST_CSUM: the guest accepts frames with partial checksums. */
  readonly guestCsum: boolean;
  /** VIRTIO_NET_F_HOST_TSO4. */
  readonly hostTso4: boolean;
  /** VIRTIO_NET_F_HOST_TSO6. */
  readonly hostTso6: boolean;
  /** VIRTIO_NET_F_HOST_ECN. */
  readonly hostEcn: boolean;
  /** VIRTIO_NET_F_HOST_UFO. */
  readonly hostUfo: boolean;
  /** VIRTIO_NET_F_GUEST_TSO4. */
  readonly guestTso4: boolean;
  /** VIRTIO_NET_F_GUEST_TSO6. */
  readonly guestTso6: boolean;
  /** VIRTIO_NET_F_GUEST_ECN. */
  readonly guestEcn: boolean;
  /** VIRTIO_NET_F_GUEST_UFO. */
  readonly guestUfo: boolean;
}
