import { VhostUserDeviceError } from './VhostUserDeviceError.ts';
import { VHOST_USER_DEVICE_STATE_FORMAT, VHOST_USER_DEVICE_STATE_VERSION, type VhostUserDeviceState } from './VhostUserDeviceState.ts';

const HEX = /^0x[0-9a-f]{1,16}$/;
const COUNTERS = ['packets', 'bytes', 'drops', 'malformed', 'noBuffer', 'filtered'] as const;

/**
 * Checks that `value` (parsed JSON, e.g. a `vnic serve` state file) is a VhostUserDeviceState this
 * version reads and returns it typed. Throws a VhostUserDeviceError `invalid-argument` naming
 * `where`, the field and what was expected (another format, another version, a bad field).
 */
export function parseVhostUserDeviceState(value: unknown, where: string): VhostUserDeviceState {
  const fail = (field: string, what: string): never => {
    throw new VhostUserDeviceError('invalid-argument', `${where}: device state field ${field} ${what}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('(root)', 'must be a JSON object');
  const o = value as Record<string, unknown>;
  if (o['format'] !== VHOST_USER_DEVICE_STATE_FORMAT) fail('format', `is ${JSON.stringify(o['format'])}; expected "${VHOST_USER_DEVICE_STATE_FORMAT}"`);
  if (o['version'] !== VHOST_USER_DEVICE_STATE_VERSION)
    fail(
      'version',
      `is ${JSON.stringify(o['version'])}; this vnic reads version ${VHOST_USER_DEVICE_STATE_VERSION} only (save it again with this vnic's version)`,
    );
  for (const k of ['savedAt', 'socket', 'tap']) if (typeof o[k] !== 'string') fail(k, 'must be a string');
  for (const k of ['offered', 'features', 'protocolFeatures']) if (typeof o[k] !== 'string' || !HEX.test(o[k])) fail(k, 'must be a hex string (0x...)');
  const pairs = o['queuePairs'];
  if (typeof pairs !== 'number' || !Number.isInteger(pairs) || pairs < 1) fail('queuePairs', 'must be a positive integer');
  const queues = o['queues'];
  if (!Array.isArray(queues)) fail('queues', 'must be an array');
  const seen = new Set<number>();
  (queues as unknown[]).forEach((q, i) => {
    const at = `queues[${i}]`;
    if (typeof q !== 'object' || q === null) fail(at, 'must be an object');
    const r = q as Record<string, unknown>;
    const index = r['index'];
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= 2 * (pairs as number) || seen.has(index))
      fail(`${at}.index`, `must be a distinct vring index below ${2 * (pairs as number)}`);
    seen.add(index as number);
    const size = r['size'];
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 32768 || (size & (size - 1)) !== 0)
      fail(`${at}.size`, 'must be a power of two in 1..32768');
    if (typeof r['enabled'] !== 'boolean') fail(`${at}.enabled`, 'must be true or false');
    for (const k of ['descUserAddr', 'availUserAddr', 'usedUserAddr'])
      if (typeof r[k] !== 'string' || !HEX.test(r[k])) fail(`${at}.${k}`, 'must be a hex string (0x...)');
    for (const k of ['nextAvail', 'nextUsed']) {
      const n = r[k];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffff) fail(`${at}.${k}`, "must be a split ring's u16 index");
    }
    for (const k of ['availWrap', 'usedWrap'])
      if (r[k] !== undefined && typeof r[k] !== 'boolean') fail(`${at}.${k}`, 'must be true or false (packed rings), or absent');
    const c = r['counters'];
    if (typeof c !== 'object' || c === null) fail(`${at}.counters`, 'must be an object');
    for (const k of COUNTERS) {
      const n = (c as Record<string, unknown>)[k];
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) fail(`${at}.counters.${k}`, 'must be a non-negative integer');
    }
  });
  return o as unknown as VhostUserDeviceState;
}
