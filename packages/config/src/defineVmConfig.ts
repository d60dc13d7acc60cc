import type * as v from 'valibot';
import type { vmConfigSchema } from './vmConfigSchema.ts';

/**
 * A VM config as a VMM writes it: the schema's input type, so defaulted fields (queue sizes,
 * offloads, `net` itself) may be left out. `validateVmConfig`/`createNetDevices` fill them in.
 */
export type VmConfigInput = v.InferInput<typeof vmConfigSchema>;

/**
 * Returns `config` unchanged: an identity helper that makes TypeScript check a VM config literal
 * against {@link VmConfigInput} (field names, backend names, value types) where it is written.
 * It does not validate at run time (MAC syntax, ranges, cross-field rules): `validateVmConfig`
 * and `createNetDevices` do.
 */
export function defineVmConfig(config: VmConfigInput): VmConfigInput {
  return config;
}
