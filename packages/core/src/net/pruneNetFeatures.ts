import { featureBit, hasFeature } from '../defs/virtio.ts';
import { netFeatureRules } from './netFeatureRules.ts';

/**
 * Drops from an offer every feature whose requirement (virtio 1.2 §5.1.3.1) is not offered, until
 * none is left: a device must not offer a feature that requires one it does not offer (§2.2.1).
 * E.g. HOST_TSO4 without CSUM goes, then HOST_ECN without any HOST_TSO goes.
 */
export function pruneNetFeatures(features: bigint): bigint {
  let out = features;
  for (let changed = true; changed;) {
    changed = false;
    for (const r of netFeatureRules) {
      if (hasFeature(out, r.feature) && !r.requiresAnyOf.some((f) => hasFeature(out, f))) {
        out &= ~featureBit(r.feature);
        changed = true;
      }
    }
  }
  return out;
}
