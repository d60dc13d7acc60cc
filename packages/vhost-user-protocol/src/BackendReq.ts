/**
 * Requests a backend sends on the backend-initiated channel (QEMU docs/interop/vhost-user.rst,
 * "Back-end message types"; VHOST_USER_SLAVE_* in older revisions).
 */
export enum BackendReq {
  /** IOTLB miss or access failure (struct vhost_iotlb_msg). */
  IOTLB_MSG = 1,
  /** Device config space changed (no payload): the frontend may GET_CONFIG again. */
  CONFIG_CHANGE_MSG = 2,
  /** Host notifier area of a vring (vring area description, fd attached). */
  VRING_HOST_NOTIFIER_MSG = 3,
  /** In-band call of a vring (vring state). */
  VRING_CALL = 4,
  /** In-band error of a vring (vring state). */
  VRING_ERR = 5,
}
