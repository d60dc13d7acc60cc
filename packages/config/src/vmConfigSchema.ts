import * as v from 'valibot';
import { isConfigObject } from './isConfigObject.ts';
import { netEntrySchema } from './netEntrySchema.ts';

/** Schema of a VM config: `{ "net": [ ... ] }` (other top-level keys belong to the VMM and are kept). */
export const vmConfigSchema = v.pipe(
  v.custom<Record<string, unknown>>(isConfigObject, 'must be an object like { "net": [ ... ] }'),
  v.looseObject({
    net: v.optional(v.array(netEntrySchema, 'must be an array of NIC entries'), []),
  }),
);

/** A VM config after schema validation. */
export type VmConfig = v.InferOutput<typeof vmConfigSchema>;
