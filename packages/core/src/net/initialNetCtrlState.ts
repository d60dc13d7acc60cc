import { hasFeature } from '../defs/virtio.ts';
import { VIRTIO_NET_F_CTRL_VLAN } from '../defs/virtio_net.ts';
import { guestOffloadFeatures } from './guestOffloadFeatures.ts';
import type { NetCtrlState } from './NetCtrlState.ts';

/**
 * The control-queue state of a device after reset with `features` negotiated (virtio 1.2 §5.1.6.5,
 * values as QEMU's): promiscuous on, every other RX mode off, default MAC `mac` (not copied), empty
 * MAC tables, every VLAN accepted unless VIRTIO_NET_F_CTRL_VLAN is negotiated (then none), one
 * active queue pair, the negotiated guest offloads on, every coalescing parameter 0.
 */
export function initialNetCtrlState(mac: Uint8Array, features: bigint): NetCtrlState {
  return {
    promisc: true,
    allmulti: false,
    alluni: false,
    nomulti: false,
    nouni: false,
    nobcast: false,
    mac,
    unicast: [],
    multicast: [],
    uniOverflow: false,
    multiOverflow: false,
    vlans: new Uint32Array(4096 / 32).fill(hasFeature(features, VIRTIO_NET_F_CTRL_VLAN) ? 0 : 0xffffffff),
    activePairs: 1,
    guestOffloads: guestOffloadFeatures(features),
    notfCoal: { tx: { maxPackets: 0, maxUsecs: 0 }, rx: { maxPackets: 0, maxUsecs: 0 }, vqs: [] },
  };
}
