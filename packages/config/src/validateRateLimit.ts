import type { ConfigIssue, NetRateLimit } from '@vnic/core';
import * as v from 'valibot';
import { formatPath } from './formatPath.ts';
import { rateLimitSchema } from './rateLimitSchema.ts';

/**
 * Checks a `rateLimit` value on its own (as `vnic serve --rate-limit` takes it) with the VM
 * config's schema: the limit, or every issue with its path below `rateLimit` (e.g.
 * `rateLimit.tx.bandwidth.size`).
 */
export function validateRateLimit(raw: unknown): { readonly limit?: NetRateLimit; readonly issues: readonly ConfigIssue[] } {
  const parsed = v.safeParse(rateLimitSchema, raw);
  if (parsed.success) return { limit: parsed.output, issues: [] };
  return {
    issues: parsed.issues.map((i) => ({ path: formatPath(['rateLimit', ...(i.path ?? []).map((p) => p.key as string | number)]), message: i.message })),
  };
}
