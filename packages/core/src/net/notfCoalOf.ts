import type { NetCoalParams } from './NetCoalParams.ts';
import type { NetNotfCoal } from './NetNotfCoal.ts';

/** The coalescing parameters data queue `vqn` runs with: its VQ_SET override, else RX_SET (even vqn) or TX_SET (odd). */
export function notfCoalOf(coal: NetNotfCoal, vqn: number): NetCoalParams {
  for (const v of coal.vqs) if (v.vqn === vqn) return { maxPackets: v.maxPackets, maxUsecs: v.maxUsecs };
  return vqn % 2 === 0 ? coal.rx : coal.tx;
}
