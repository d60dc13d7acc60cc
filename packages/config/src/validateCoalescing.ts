import type { ConfigIssue, NetCoalescing } from '@vnic/core';
import * as v from 'valibot';
import { coalescingSchema } from './coalescingSchema.ts';
import { formatPath } from './formatPath.ts';

/**
 * Checks a `coalescing` value on its own (as `vnic serve --coalesce` takes it) with the VM
 * config's schema: the settings, or every issue with its path below `coalescing` (e.g.
 * `coalescing.rx.maxUsecs`).
 */
export function validateCoalescing(raw: unknown): { readonly coalescing?: NetCoalescing; readonly issues: readonly ConfigIssue[] } {
  const parsed = v.safeParse(coalescingSchema, raw);
  if (parsed.success) return { coalescing: parsed.output, issues: [] };
  return {
    issues: parsed.issues.map((i) => ({ path: formatPath(['coalescing', ...(i.path ?? []).map((p) => p.key as string | number)]), message: i.message })),
  };
}
