import { hasFeature } from '../defs/virtio.ts';
import { netFeatureRules } from './netFeatureRules.ts';

/**
 * The first virtio-net feature dependency (virtio 1.2 §5.1.3.1) that `features` breaks, as text
 * (`VIRTIO_NET_F_HOST_TSO4 requires VIRTIO_NET_F_CSUM`), or undefined when all hold.
 */
export function checkNetFeatures(features: bigint): string | undefined {
  for (const r of netFeatureRules) {
    if (hasFeature(features, r.feature) && !r.requiresAnyOf.some((f) => hasFeature(features, f))) return r.text;
  }
  return undefined;
}
