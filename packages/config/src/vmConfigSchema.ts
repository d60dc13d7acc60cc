import * as v from 'valibot';
import { isConfigObject } from './isConfigObject.ts';
import { netEntrySchema } from './netEntrySchema.ts';

const vmConfigObject = v.looseObject({
  net: v.optional(v.array(netEntrySchema, 'must be an array of NIC entries'), []),
});

/** Schema of a VM config: `{ "net": [ ... ] }` (other top-level keys belong to the VMM and are kept). */
export const vmConfigSchema = v.pipe(
  v.custom<v.InferInput<typeof vmConfigObject>>(isConfigObject, 'must be an object like { "net": [ ... ] }'),
  vmConfigObject,
);

/** A VM config after schema validation. */
export type VmConfig = v.InferOutput<typeof vmConfigSchema>;
