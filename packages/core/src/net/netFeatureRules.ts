import * as N from '../defs/virtio_net.ts';
import type { NetFeatureRule } from './NetFeatureRule.ts';

/** A virtio-net feature by its name after `VIRTIO_NET_F_` (`'GUEST_TSO4'`). */
type NetFeatureName = { [K in keyof typeof N]: K extends `VIRTIO_NET_F_${infer Name}` ? Name : never }[keyof typeof N];

const bit = (name: NetFeatureName): number => N[`VIRTIO_NET_F_${name}`];

/** One rule per feature of `dependents`, each requiring any one of `requiredAnyOf`, in the order given. */
function requires(requiredAnyOf: readonly NetFeatureName[], ...dependents: readonly NetFeatureName[]): NetFeatureRule[] {
  const text = requiredAnyOf.map((r) => `VIRTIO_NET_F_${r}`).join(' or ');
  return dependents.map((d) => ({ feature: bit(d), requiresAnyOf: requiredAnyOf.map(bit), text: `VIRTIO_NET_F_${d} requires ${text}` }));
}

/**
 * The virtio-net feature dependencies: every rule of virtio 1.2 §5.1.3.1, plus the SHOULD NOTs of
 * §5.1.4 (CTRL_RX_EXTRA and HASH_REPORT without CTRL_VQ) and CTRL_GUEST_OFFLOADS, whose only
 * command travels on the control queue. A driver breaking one is refused FEATURES_OK; a device
 * never offers a feature whose requirement it does not offer (§2.2.1).
 */
export const netFeatureRules: readonly NetFeatureRule[] = [
  ...requires(['GUEST_CSUM'], 'GUEST_TSO4', 'GUEST_TSO6'),
  ...requires(['GUEST_TSO4', 'GUEST_TSO6'], 'GUEST_ECN'),
  ...requires(['GUEST_CSUM'], 'GUEST_UFO', 'GUEST_USO4', 'GUEST_USO6'),
  ...requires(['CSUM'], 'HOST_TSO4', 'HOST_TSO6'),
  ...requires(['HOST_TSO4', 'HOST_TSO6'], 'HOST_ECN'),
  ...requires(['CSUM'], 'HOST_UFO', 'HOST_USO'),
  ...requires(['CTRL_VQ'], 'CTRL_RX', 'CTRL_RX_EXTRA', 'CTRL_VLAN', 'GUEST_ANNOUNCE', 'MQ', 'CTRL_MAC_ADDR', 'CTRL_GUEST_OFFLOADS'),
  ...requires(['CTRL_VQ'], 'NOTF_COAL', 'VQ_NOTF_COAL', 'RSS', 'HASH_REPORT'),
  ...requires(['HOST_TSO4', 'HOST_TSO6'], 'RSC_EXT'),
];
