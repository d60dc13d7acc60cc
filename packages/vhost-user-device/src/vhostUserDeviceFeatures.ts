import {
  featureBit,
  NOTF_COAL_FEATURES,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
} from '@vnic/core';
import {
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_GUEST_ANNOUNCE,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_UFO,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_CTRL_VQ,
} from '@vnic/core/virtio_net';
import { VHOST_F_LOG_ALL, VHOST_USER_F_PROTOCOL_FEATURES } from '@vnic/vhost-user-protocol';
import { tapBackendFeatures } from '@vnic/sys';

/**
 * The data-plane bits of the tap backend's feature set: the ring features and the offloads. The
 * rest (MAC, STATUS, MTU, CTRL_VQ and the CTRL_* family) belong to the frontend's
 * side of the device (QEMU and DPDK virtio_user handle config space and the control queue), so a
 * vhost-user backend does not offer them, as DPDK's vhost library and cloud-hypervisor do not.
 */
const DATA_PLANE = [
  VIRTIO_F_VERSION_1,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_UFO,
].reduce((m, b) => m | featureBit(b), 0n);

/**
 * What GET_FEATURES answers: the tap data plane's ring and offload features for a tap whose
 * TUNSETOFFLOAD accepts `tunOffloads` (the same decision as the virtio-net backend,
 * tapBackendFeatures), RING_PACKED (the IO threads serve packed rings as well as split ones),
 * IN_ORDER (their queues hand buffers back in the order they were made available), MQ
 * when more than one queue pair is served, VIRTIO_NET_F_GUEST_ANNOUNCE (nothing to do here: QEMU
 * passes it to the guest only when the backend offers it, and then the guest announces itself
 * after a live migration), VHOST_F_LOG_ALL (dirty-page logging into the SET_LOG_BASE log) and
 * VHOST_USER_F_PROTOCOL_FEATURES; with `controlQueue` (whole-device mode) also CTRL_VQ, NOTF_COAL
 * and VQ_NOTF_COAL, without RING_PACKED: the device serves the control queue and its IO threads
 * coalesce.
 */
export function vhostUserDeviceFeatures(tunOffloads: number, queuePairs: number, controlQueue = false): bigint {
  let f = tapBackendFeatures(tunOffloads) & DATA_PLANE;
  if (controlQueue) f |= featureBit(VIRTIO_NET_F_CTRL_VQ) | NOTF_COAL_FEATURES;
  if (queuePairs > 1) f |= featureBit(VIRTIO_NET_F_MQ);
  // Whole-device mode leaves RING_PACKED out: user-mode Linux's virtio_uml (its one frontend here)
  // sends SET_VRING_BASE 0 for a packed ring, a wrap counter of 0 where vhost-user.rst wants the
  // ring's (1 on a fresh ring), so neither side would see the other's descriptors or kicks.
  if (!controlQueue) f |= featureBit(VIRTIO_F_RING_PACKED);
  return f | featureBit(VIRTIO_F_IN_ORDER) | featureBit(VIRTIO_NET_F_GUEST_ANNOUNCE) | featureBit(VHOST_F_LOG_ALL) | featureBit(VHOST_USER_F_PROTOCOL_FEATURES);
}
