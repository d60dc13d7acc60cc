import { validateCoalescing } from '@vnic/config';
import { errorMessage, type NetCoalescing } from '@vnic/core';
import { InvalidArgumentError } from 'commander';

/**
 * Parses `vnic serve --coalesce <json>` (the `coalescing` of a NIC entry, e.g.
 * `{"rx":{"maxPackets":32,"maxUsecs":100}}`) with the VM config's schema; a bad value is an
 * InvalidArgumentError naming each field.
 */
export function parseCoalesceOption(text: string): NetCoalescing {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(`--coalesce must be JSON like {"rx":{"maxPackets":32,"maxUsecs":100}}: ${errorMessage(e)}`);
  }
  const { coalescing, issues } = validateCoalescing(json);
  if (coalescing !== undefined) return coalescing;
  throw new InvalidArgumentError(`--coalesce: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
}
