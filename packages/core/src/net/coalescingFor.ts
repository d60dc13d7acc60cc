import type { NetCoalescing } from '../device/NetCoalescing.ts';
import type { NetCoalParams } from './NetCoalParams.ts';
import type { NetNotfCoal } from './NetNotfCoal.ts';
import { notfCoalOf } from './notfCoalOf.ts';

/** What data queue `vqn` runs with: the VMM's parameters for its direction when set, else the guest's (notfCoalOf). */
export function coalescingFor(guest: NetNotfCoal, vmm: NetCoalescing, vqn: number): NetCoalParams {
  return (vqn % 2 === 0 ? vmm.rx : vmm.tx) ?? notfCoalOf(guest, vqn);
}
