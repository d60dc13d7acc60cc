import * as v from 'valibot';
import { isConfigObject } from './isConfigObject.ts';
import { coalescingSchema } from './coalescingSchema.ts';
import { rateLimitSchema } from './rateLimitSchema.ts';
import { TAP_MAX_MTU } from './TAP_MAX_MTU.ts';

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

const offloadFlag = v.optional(v.boolean('must be true or false'), true);

const OFFLOADS_MESSAGE =
  'must be an object of offload switches; allowed keys: csum, guestCsum, hostTso4, hostTso6, hostEcn, hostUfo, guestTso4, guestTso6, guestEcn, guestUfo';

const offloadsObject = v.strictObject(
  {
    csum: offloadFlag,
    guestCsum: offloadFlag,
    hostTso4: offloadFlag,
    hostTso6: offloadFlag,
    hostEcn: offloadFlag,
    hostUfo: offloadFlag,
    guestTso4: offloadFlag,
    guestTso6: offloadFlag,
    guestEcn: offloadFlag,
    guestUfo: offloadFlag,
  },
  OFFLOADS_MESSAGE,
);

/** Offload switches; each defaults to on. (The object check first, so `[]` or `null` reads in our words; typed as the object's input.) */
export const offloadsSchema = v.pipe(v.custom<v.InferInput<typeof offloadsObject>>(isConfigObject, OFFLOADS_MESSAGE), offloadsObject);

const LIVE_FALLBACK_MESSAGE = 'must be an object like { "afterMs": 3000, "retryMs": 500 } (allowed keys: afterMs, retryMs)';

/** `liveFallback`: switch a running vhost-user NIC to `fallback` after its backend was gone `afterMs`, and back. */
function liveFallbackSchema() {
  const ms = (min: number, max: number) =>
    v.pipe(
      v.number('must be a number of milliseconds'),
      v.integer('must be an integer'),
      v.minValue(min, `must be at least ${min}`),
      v.maxValue(max, `must be at most ${max}`),
    );
  const object = v.strictObject({ afterMs: ms(0, 86_400_000), retryMs: v.optional(ms(10, 60_000), 500) }, LIVE_FALLBACK_MESSAGE);
  return v.pipe(v.custom<v.InferInput<typeof object>>(isConfigObject, LIVE_FALLBACK_MESSAGE), object);
}

const powerOfTwo = v.check((n: number) => (n & (n - 1)) === 0, 'must be a power of two');

/**
 * Schema of one `net[]` entry. Backend-specific sections are keyed by backend name
 * (e.g. `"vhost-user": { "socket": ... }`); they are checked by the backend's provider.
 */
const netEntryObject = v.looseObject({
  id: v.pipe(v.string('must be a string'), v.regex(ID_RE, 'must be 1-32 characters of A-Z a-z 0-9 _ . - starting with a letter or digit')),
  backend: v.pipe(v.string('must be a string naming a backend'), v.minLength(1, 'must name a backend')),
  mac: v.pipe(
    v.string('must be a string like "52:54:00:12:34:56"'),
    v.regex(MAC_RE, 'must be six hex bytes separated by colons, like "52:54:00:12:34:56"'),
    v.check((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, 'must be a unicast address (first byte even)'),
  ),
  queuePairs: v.optional(
    v.pipe(v.number('must be a number'), v.integer('must be an integer'), v.minValue(1, 'must be at least 1'), v.maxValue(256, 'must be at most 256')),
    1,
  ),
  queueSize: v.optional(
    v.pipe(
      v.number('must be a number'),
      v.integer('must be an integer'),
      v.minValue(2, 'must be at least 2'),
      v.maxValue(32768, 'must be at most 32768'),
      powerOfTwo,
    ),
    256,
  ),
  mtu: v.optional(
    v.pipe(
      v.number('must be a number'),
      v.integer('must be an integer'),
      v.minValue(68, 'must be at least 68'),
      v.maxValue(TAP_MAX_MTU, `must be at most ${TAP_MAX_MTU} (the largest MTU a tap takes)`),
    ),
  ),
  offloads: v.optional(offloadsSchema, {}),
  mrgRxbuf: v.optional(v.boolean('must be true or false'), true),
  eventIdx: v.optional(v.boolean('must be true or false'), true),
  indirectDesc: v.optional(v.boolean('must be true or false'), true),
  ctrlVq: v.optional(v.boolean('must be true or false'), true),
  fallback: v.optional(v.pipe(v.string('must be a string naming a backend'), v.minLength(1, 'must name a backend'))),
  liveFallback: v.optional(liveFallbackSchema()),
  rateLimit: v.optional(rateLimitSchema),
  coalescing: v.optional(coalescingSchema),
});

/** The object check first (a non-object entry reads in our words), typed as the entry's input so a VMM's literal is checked. */
export const netEntrySchema = v.pipe(v.custom<v.InferInput<typeof netEntryObject>>(isConfigObject, 'must be an object describing one NIC'), netEntryObject);

/** One `net[]` entry after schema validation (before the backend section is checked). */
export type NetEntry = v.InferOutput<typeof netEntrySchema>;
