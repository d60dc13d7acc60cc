import { NOTF_COAL_MAX_USECS, type NetCoalescing } from '@vnic/core';
import * as v from 'valibot';
import { isConfigObject } from './isConfigObject.ts';

const PARAMS_MESSAGE =
  'must be coalescing parameters like { "maxPackets": 32, "maxUsecs": 100 } (virtio max_packets, max_usecs; either 0: off); allowed keys: maxPackets, maxUsecs';
const COALESCING_MESSAGE = 'must be an object of coalescing parameters; allowed keys: rx (notifications of received frames), tx (of sent frames)';

const count = (max: number, what: string) =>
  v.pipe(v.number('must be a number'), v.integer('must be an integer'), v.minValue(0, 'must be at least 0'), v.maxValue(max, `must be at most ${max} ${what}`));

const paramsObject = v.strictObject(
  {
    maxPackets: count(0xffff_ffff, '(le32 max_packets)'),
    maxUsecs: count(NOTF_COAL_MAX_USECS, 'µs, one second'),
  },
  PARAMS_MESSAGE,
);
const params = v.pipe(v.custom<v.InferInput<typeof paramsObject>>(isConfigObject, PARAMS_MESSAGE), paramsObject);

const coalescingObject = v.strictObject({ rx: v.optional(params), tx: v.optional(params) }, COALESCING_MESSAGE);

/**
 * A NIC's `coalescing` (VIRTIO_NET_F_NOTF_COAL, virtio 1.3 §5.1.6.5.9, set by the VMM): per
 * direction (`rx`: the receive queues, `tx`: the transmit queues) `{ maxPackets, maxUsecs }`; the
 * guest is notified once `maxPackets` frames are done or `maxUsecs` have passed since the first,
 * either 0 meaning one notification per frame. A direction given wins over what the guest sets
 * with `ethtool -C`. Used by `net[].coalescing` and by `vnic serve --coalesce`.
 */
export const coalescingSchema = v.pipe(
  v.custom<v.InferInput<typeof coalescingObject>>(isConfigObject, COALESCING_MESSAGE),
  coalescingObject,
  v.transform((c): NetCoalescing => ({ ...(c.rx === undefined ? {} : { rx: c.rx }), ...(c.tx === undefined ? {} : { tx: c.tx }) })),
);
