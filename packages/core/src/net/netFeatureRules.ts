import * as N from '../defs/virtio_net.ts';
import type { NetFeatureRule } from './NetFeatureRule.ts';

function rule(feature: number, name: string, requiresAnyOf: readonly number[], requiredNames: string): NetFeatureRule {
  return { feature, requiresAnyOf, text: `VIRTIO_NET_F_${name} requires VIRTIO_NET_F_${requiredNames}` };
}

/**
 * The virtio-net feature dependencies: every rule of virtio 1.2 §5.1.3.1, plus the SHOULD NOTs of
 * §5.1.4 (CTRL_RX_EXTRA and HASH_REPORT without CTRL_VQ) and CTRL_GUEST_OFFLOADS, whose only
 * command travels on the control queue. A driver breaking one is refused FEATURES_OK; a device
 * never offers a feature whose requirement it does not offer (§2.2.1).
 */
export const netFeatureRules: readonly NetFeatureRule[] = [
  rule(N.VIRTIO_NET_F_GUEST_TSO4, 'GUEST_TSO4', [N.VIRTIO_NET_F_GUEST_CSUM], 'GUEST_CSUM'),
  rule(N.VIRTIO_NET_F_GUEST_TSO6, 'GUEST_TSO6', [N.VIRTIO_NET_F_GUEST_CSUM], 'GUEST_CSUM'),
  rule(N.VIRTIO_NET_F_GUEST_ECN, 'GUEST_ECN', [N.VIRTIO_NET_F_GUEST_TSO4, N.VIRTIO_NET_F_GUEST_TSO6], 'GUEST_TSO4 or VIRTIO_NET_F_GUEST_TSO6'),
  rule(N.VIRTIO_NET_F_GUEST_UFO, 'GUEST_UFO', [N.VIRTIO_NET_F_GUEST_CSUM], 'GUEST_CSUM'),
  rule(N.VIRTIO_NET_F_GUEST_USO4, 'GUEST_USO4', [N.VIRTIO_NET_F_GUEST_CSUM], 'GUEST_CSUM'),
  rule(N.VIRTIO_NET_F_GUEST_USO6, 'GUEST_USO6', [N.VIRTIO_NET_F_GUEST_CSUM], 'GUEST_CSUM'),
  rule(N.VIRTIO_NET_F_HOST_TSO4, 'HOST_TSO4', [N.VIRTIO_NET_F_CSUM], 'CSUM'),
  rule(N.VIRTIO_NET_F_HOST_TSO6, 'HOST_TSO6', [N.VIRTIO_NET_F_CSUM], 'CSUM'),
  rule(N.VIRTIO_NET_F_HOST_ECN, 'HOST_ECN', [N.VIRTIO_NET_F_HOST_TSO4, N.VIRTIO_NET_F_HOST_TSO6], 'HOST_TSO4 or VIRTIO_NET_F_HOST_TSO6'),
  rule(N.VIRTIO_NET_F_HOST_UFO, 'HOST_UFO', [N.VIRTIO_NET_F_CSUM], 'CSUM'),
  rule(N.VIRTIO_NET_F_HOST_USO, 'HOST_USO', [N.VIRTIO_NET_F_CSUM], 'CSUM'),
  rule(N.VIRTIO_NET_F_CTRL_RX, 'CTRL_RX', [N.VIRTIO_NET_F_CTRL_VQ], 'CTRL_VQ'),
  rule(N.VIRTIO_NET_F_CTRL_RX_EXTRA, 'CTRL_RX_EXTRA', [N.VIRTIO_NET_F_CTRL_VQ], 'CTRL_VQ'),
  rule(N.VIRTIO_NET_F_CTRL_VLAN, 'CTRL_VLAN', [N.VIRTIO_NET_F_CTRL_VQ], 'CTRL_VQ'),
  rule(N.VIRTIO_NET_F_GUEST_ANNOUNCE, 'GUEST_ANNOUNCE', [N.VIRTIO_NET_F_CTRL_VQ], 'CTRL_VQ'),
  rule(N.VIRTIO_NET_F_MQ, 'MQ', [N.VIRTIO_NET_F_CTRL_VQ], 'CTRL_VQ'),
  rule(N.VIRTIO_NET_F_CTRL_MAC_ADDR, 'CTRL_MAC_ADDR', [N.VIRTIO_NET_F_CTRL_VQ], 'CTRL_VQ'),
  rule(N.VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, 'CTRL_GUEST_OFFLOADS', [N.VIRTIO_NET_F_CTRL_VQ], 'CTRL_VQ'),
  rule(N.VIRTIO_NET_F_NOTF_COAL, 'NOTF_COAL', [N.VIRTIO_NET_F_CTRL_VQ], 'CTRL_VQ'),
  rule(N.VIRTIO_NET_F_VQ_NOTF_COAL, 'VQ_NOTF_COAL', [N.VIRTIO_NET_F_CTRL_VQ], 'CTRL_VQ'),
  rule(N.VIRTIO_NET_F_RSS, 'RSS', [N.VIRTIO_NET_F_CTRL_VQ], 'CTRL_VQ'),
  rule(N.VIRTIO_NET_F_HASH_REPORT, 'HASH_REPORT', [N.VIRTIO_NET_F_CTRL_VQ], 'CTRL_VQ'),
  rule(N.VIRTIO_NET_F_RSC_EXT, 'RSC_EXT', [N.VIRTIO_NET_F_HOST_TSO4, N.VIRTIO_NET_F_HOST_TSO6], 'HOST_TSO4 or VIRTIO_NET_F_HOST_TSO6'),
];
