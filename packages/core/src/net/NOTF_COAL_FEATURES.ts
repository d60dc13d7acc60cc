import { featureBits } from '../defs/featureBits.ts';
import * as N from '../defs/virtio_net.ts';

/**
 * VIRTIO_NET_F_VQ_NOTF_COAL and VIRTIO_NET_F_NOTF_COAL: offered with the control queue
 * (netDeviceFeatures) when the backend's data plane holds back used-buffer notifications itself
 * (the in-process backend); a backend whose data plane vnic is not on (vhost-net, vhost-user)
 * leaves them out of its mask.
 */
export const NOTF_COAL_FEATURES: bigint = featureBits(N.VIRTIO_NET_F_VQ_NOTF_COAL, N.VIRTIO_NET_F_NOTF_COAL);
