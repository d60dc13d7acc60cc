import type { NetCtrlState } from '@vnic/core';
import { TUN_FLT_EXACT_COUNT } from '../linux/if_tun.ts';

const BROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
/** A destination no valid frame has: keeps the filter on when nothing at all may pass. */
const NOBODY = new Uint8Array(6);

/**
 * The TUNSETTXFILTER filter (Tap.setTxFilter) closest to a virtio-net RX filter state
 * (virtio 1.2 §5.1.6.5.1/2, the decision rxFilterAccepts makes per frame), for a data plane the
 * kernel runs (vhost-net), where vnic never sees a frame. It never drops a frame the guest asked
 * for; it may pass more: multicast beyond 8 exact entries is hashed, and broadcast passes with
 * ALLMULTI even under NOBCAST. `undefined` (filter off) for PROMISC, ALLUNI, a unicast overflow,
 * or more unicast addresses than the kernel matches exactly. VLAN filtering has no kernel
 * counterpart here.
 */
export function tunTxFilter(s: NetCtrlState): { readonly allMulti: boolean; readonly addrs: Uint8Array[] } | undefined {
  if (s.promisc) return undefined;
  const unicast: Uint8Array[] = [];
  if (!s.nouni) {
    if (s.alluni || s.uniOverflow) return undefined;
    unicast.push(s.mac, ...s.unicast);
    if (unicast.length > TUN_FLT_EXACT_COUNT) return undefined;
  }
  const others: Uint8Array[] = [];
  if (!s.nobcast) others.push(BROADCAST);
  let allMulti = false;
  if (!s.nomulti) {
    if (s.allmulti || s.multiOverflow) allMulti = true;
    else others.push(...s.multicast);
  }
  // Unicast entries first: only the first TUN_FLT_EXACT_COUNT are exact, the rest must be multicast.
  const addrs = [...unicast, ...others];
  if (addrs.length === 0) addrs.push(NOBODY);
  return { allMulti, addrs };
}
