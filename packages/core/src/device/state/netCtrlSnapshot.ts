import type { NetCtrlState } from '../../net/NetCtrlState.ts';
import type { NetCtrlSnapshot } from './NetDeviceState.ts';
import { stateHex } from './stateHex.ts';

/** The control-queue state as the JSON a NetDeviceState carries (parseNetDeviceState reads it back). */
export function netCtrlSnapshot(s: NetCtrlState): NetCtrlSnapshot {
  const vids: number[] = [];
  let all = true;
  for (let vid = 0; vid < 4096; vid++) {
    if (((s.vlans[vid >>> 5]! >>> (vid & 31)) & 1) === 1) vids.push(vid);
    else all = false;
  }
  return {
    promisc: s.promisc,
    allmulti: s.allmulti,
    alluni: s.alluni,
    nomulti: s.nomulti,
    nouni: s.nouni,
    nobcast: s.nobcast,
    mac: [...s.mac],
    unicast: s.unicast.map((m) => [...m]),
    multicast: s.multicast.map((m) => [...m]),
    uniOverflow: s.uniOverflow,
    multiOverflow: s.multiOverflow,
    vlans: all ? 'all' : vids,
    activePairs: s.activePairs,
    guestOffloads: stateHex(s.guestOffloads),
    notfCoal: { tx: { ...s.notfCoal.tx }, rx: { ...s.notfCoal.rx }, vqs: s.notfCoal.vqs.map((v) => ({ ...v })) },
  };
}
