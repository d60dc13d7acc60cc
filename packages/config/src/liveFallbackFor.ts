import { LiveFallbackPolicy } from './LiveFallbackPolicy.ts';
import type { SwitchableNetDevice, SwitchPolicy } from './SwitchableNetDevice.ts';

/** Retry pause when `liveFallback.retryMs` is not set. */
const DEFAULT_RETRY_MS = 500;

/**
 * The live fallback policy of a validated `net[]` entry that has `liveFallback` (undefined
 * otherwise): the primary entry is the entry without `fallback`, `liveFallback` and the fallback's
 * section; the fallback entry is the same NIC on the `fallback` backend with that section.
 */
export function liveFallbackFor(entry: Readonly<Record<string, unknown>>): ((nic: SwitchableNetDevice) => SwitchPolicy) | undefined {
  const live = entry['liveFallback'] as { afterMs: number; retryMs?: number } | undefined;
  const fallback = entry['fallback'];
  if (live === undefined || typeof fallback !== 'string') return undefined;
  const backend = entry['backend'] as string;
  const common: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(entry)) {
    if (k !== 'fallback' && k !== 'liveFallback' && k !== backend && k !== fallback) common[k] = val;
  }
  const primary = { ...common, ...(Object.hasOwn(entry, backend) ? { [backend]: entry[backend] } : {}) };
  const fb = { ...common, backend: fallback, ...(Object.hasOwn(entry, fallback) ? { [fallback]: entry[fallback] } : {}) };
  const settings = { primary, fallback: fb, afterMs: live.afterMs, retryMs: live.retryMs ?? DEFAULT_RETRY_MS };
  return (nic) => new LiveFallbackPolicy(nic, settings);
}
