import type { ConfigIssue } from '@vnic/core';
import type { VhostUserOptions } from './VhostUserOptions.ts';

const KEYS = ['socket', 'mode', 'reconnect', 'connectTimeoutMs', 'replyTimeoutMs'];
/** Defaults of the optional fields. */
const DEFAULTS = { mode: 'client', reconnect: true, connectTimeoutMs: 5000, replyTimeoutMs: 5000 } as const;

/**
 * Checks a `"vhost-user"` config section; issue paths are relative to it (`socket`, `mode`, ...).
 * Returns the options with defaults applied when there is no issue.
 */
export function parseVhostUserOptions(raw: Readonly<Record<string, unknown>>): {
  readonly options: VhostUserOptions | undefined;
  readonly issues: ConfigIssue[];
} {
  const issues: ConfigIssue[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { options: undefined, issues: [{ path: '', message: 'must be an object like { "socket": "/run/vnic/net0.sock" }' }] };
  }
  for (const k of Object.keys(raw)) {
    if (!KEYS.includes(k)) issues.push({ path: k, message: `unknown key; allowed keys: ${KEYS.join(', ')}` });
  }
  const socket = raw['socket'];
  if (socket === undefined) issues.push({ path: 'socket', message: 'is required: the path of the vhost-user unix socket' });
  else if (typeof socket !== 'string' || socket.length === 0) issues.push({ path: 'socket', message: 'must be a non-empty string (a unix socket path)' });
  else if (Buffer.byteLength(socket) > 107 || socket.includes('\0'))
    issues.push({ path: 'socket', message: 'must be at most 107 bytes without NUL (sun_path)' });
  const mode = raw['mode'] ?? DEFAULTS.mode;
  if (mode !== 'client' && mode !== 'server') issues.push({ path: 'mode', message: 'must be "client" (vnic connects) or "server" (vnic listens)' });
  const reconnect = raw['reconnect'] ?? DEFAULTS.reconnect;
  if (typeof reconnect !== 'boolean') issues.push({ path: 'reconnect', message: 'must be true or false' });
  const ms = (key: 'connectTimeoutMs' | 'replyTimeoutMs', min: number): number => {
    const v = raw[key] ?? DEFAULTS[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 3_600_000) {
      issues.push({ path: key, message: `must be an integer number of milliseconds between ${min} and 3600000` });
      return DEFAULTS[key];
    }
    return v;
  };
  const connectTimeoutMs = ms('connectTimeoutMs', 0);
  const replyTimeoutMs = ms('replyTimeoutMs', 1);
  if (issues.length > 0) return { options: undefined, issues };
  return {
    options: { socket: socket as string, mode: mode as 'client' | 'server', reconnect: reconnect as boolean, connectTimeoutMs, replyTimeoutMs },
    issues,
  };
}
