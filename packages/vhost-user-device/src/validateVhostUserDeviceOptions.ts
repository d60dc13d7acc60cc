import type { ConfigIssue } from '@vnic/core';
import { checkCoalescing, errorMessage, RateLimiter, type NetRateLimit } from '@vnic/core';
import { validateVirtioNetOptions } from '@vnic/virtio-net';

const KEYS = [
  'socket',
  'client',
  'queuePairs',
  'tap',
  'tapFds',
  'persistent',
  'name',
  'allowUnsealedMemory',
  'handshakeTimeoutMs',
  'state',
  'rateLimit',
  'coalescing',
  'controlQueue',
];
const TAP_KEYS = new Set(['tap', 'tapFds', 'persistent']);
/** Most queue pairs served (each one is an IO thread). */
export const MAX_QUEUE_PAIRS = 16;

/**
 * Checks VhostUserDeviceOptions: `socket` (1..107 bytes), `client` (boolean), `queuePairs`
 * (1..16), and the tap fields exactly as the virtio-net backend checks them
 * (validateVirtioNetOptions). Returns every problem with its field, or [] when valid.
 */
export function validateVhostUserDeviceOptions(options: Readonly<Record<string, unknown>>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const bad = (path: string, message: string): void => {
    issues.push({ path, message });
  };
  for (const key of Object.keys(options)) if (!KEYS.includes(key)) bad(key, `unknown field; allowed: ${KEYS.join(', ')}`);
  const { socket, client, queuePairs, name } = options;
  if (typeof socket !== 'string' || socket.length === 0) bad('socket', 'must be the path of the vhost-user unix socket');
  else if (Buffer.byteLength(socket) > 107 || socket.includes('\0')) bad('socket', `"${socket}" is longer than the 107 bytes a unix socket path may have`);
  if (client !== undefined && typeof client !== 'boolean') bad('client', 'must be true or false');
  if (options['allowUnsealedMemory'] !== undefined && typeof options['allowUnsealedMemory'] !== 'boolean') bad('allowUnsealedMemory', 'must be true or false');
  if (options['controlQueue'] !== undefined && typeof options['controlQueue'] !== 'boolean') bad('controlQueue', 'must be true or false');
  if (queuePairs !== undefined && (typeof queuePairs !== 'number' || !Number.isInteger(queuePairs) || queuePairs < 1 || queuePairs > MAX_QUEUE_PAIRS)) {
    bad('queuePairs', `must be an integer 1..${MAX_QUEUE_PAIRS}`);
  }
  if (name !== undefined && typeof name !== 'string') bad('name', 'must be a string');
  const timeout = options['handshakeTimeoutMs'];
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 3_600_000))
    bad('handshakeTimeoutMs', 'must be an integer 1..3600000 (milliseconds)');
  const limit = options['rateLimit'];
  if (limit !== undefined) {
    if (typeof limit !== 'object' || limit === null || Array.isArray(limit))
      bad('rateLimit', 'must be an object like { "tx": { "bandwidth": { "size": 125000, "refillTimeMs": 100 } } }');
    else {
      for (const dir of ['rx', 'tx'] as const) {
        try {
          new RateLimiter((limit as NetRateLimit)[dir], 0); // the buckets check their own numbers
        } catch (e) {
          bad(`rateLimit.${dir}`, errorMessage(e));
        }
      }
    }
  }
  const coal = options['coalescing'];
  if (coal !== undefined) {
    if (typeof coal !== 'object' || coal === null || Array.isArray(coal))
      bad('coalescing', 'must be an object like { "rx": { "maxPackets": 32, "maxUsecs": 100 } }');
    else {
      try {
        checkCoalescing('coalescing', coal);
      } catch (e) {
        const m = /^coalescing: coalescing\.(\w+\.\w+) (.*)$/.exec(errorMessage(e));
        bad(m === null ? 'coalescing' : `coalescing.${m[1]!}`, m === null ? errorMessage(e) : m[2]!);
      }
    }
  }
  const tapSection = Object.fromEntries(Object.entries(options).filter(([k]) => TAP_KEYS.has(k)));
  issues.push(...validateVirtioNetOptions(tapSection));
  const fds = options['tapFds'];
  const pairs = typeof queuePairs === 'number' ? queuePairs : 1;
  if (Array.isArray(fds) && fds.length !== pairs) bad('tapFds', `has ${fds.length} fds; one per queue pair (${pairs}) is needed`);
  return issues;
}
