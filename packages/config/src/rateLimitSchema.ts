import { TokenBucket } from '@vnic/core';
import * as v from 'valibot';
import { isConfigObject } from './isConfigObject.ts';

const BUCKET_MESSAGE = 'must be a token bucket like { "size": 125000, "refillTimeMs": 100, "oneTimeBurst": 0 }; allowed keys: size, refillTimeMs, oneTimeBurst';
const DIRECTION_MESSAGE = 'must be an object of token buckets; allowed keys: bandwidth (bytes), ops (frames)';
const LIMIT_MESSAGE = 'must be an object of rate limits; allowed keys: rx (frames to the guest), tx (frames from the guest)';

const count = (max: number, what: string) =>
  v.pipe(v.number('must be a number'), v.integer('must be an integer'), v.minValue(0, 'must be at least 0'), v.maxValue(max, `must be at most ${max} ${what}`));

const bucketObject = v.strictObject(
  {
    size: count(TokenBucket.MAX_SIZE, '(0: unlimited)'),
    refillTimeMs: count(TokenBucket.MAX_REFILL_TIME_MS, 'ms, one day (0: unlimited)'),
    oneTimeBurst: v.optional(count(TokenBucket.MAX_SIZE, 'tokens')),
  },
  BUCKET_MESSAGE,
);
const bucket = v.pipe(v.custom<v.InferInput<typeof bucketObject>>(isConfigObject, BUCKET_MESSAGE), bucketObject);

const directionObject = v.strictObject({ bandwidth: v.optional(bucket), ops: v.optional(bucket) }, DIRECTION_MESSAGE);
const direction = v.pipe(v.custom<v.InferInput<typeof directionObject>>(isConfigObject, DIRECTION_MESSAGE), directionObject);

const limitObject = v.strictObject({ rx: v.optional(direction), tx: v.optional(direction) }, LIMIT_MESSAGE);

/**
 * A NIC's `rateLimit`: per direction (`rx` to the guest, `tx` from it) a `bandwidth` bucket of
 * bytes and an `ops` bucket of frames, each `{ size, refillTimeMs, oneTimeBurst? }` as
 * Firecracker's API has them (size or refill time 0: unlimited). Used by `net[].rateLimit` and by
 * `vnic serve`.
 */
export const rateLimitSchema = v.pipe(v.custom<v.InferInput<typeof limitObject>>(isConfigObject, LIMIT_MESSAGE), limitObject);
