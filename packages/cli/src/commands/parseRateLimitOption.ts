import { validateRateLimit } from '@vnic/config';
import { errorMessage, type NetRateLimit } from '@vnic/core';
import { InvalidArgumentError } from 'commander';

/**
 * Parses `vnic serve --rate-limit <json>` (the `rateLimit` of a NIC entry, e.g.
 * `{"tx":{"bandwidth":{"size":125000,"refillTimeMs":100}}}`) with the VM config's schema; a bad
 * value is an InvalidArgumentError naming each field.
 */
export function parseRateLimitOption(text: string): NetRateLimit {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(`--rate-limit must be JSON like {"tx":{"bandwidth":{"size":125000,"refillTimeMs":100}}}: ${errorMessage(e)}`);
  }
  const { limit, issues } = validateRateLimit(json);
  if (limit !== undefined) return limit;
  throw new InvalidArgumentError(`--rate-limit: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
}
