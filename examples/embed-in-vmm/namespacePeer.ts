import { Netns } from '@vnic/cli';
import type { Peer } from './Peer.ts';
import type { VmmNic } from './VmmNic.ts';

/**
 * SCAFFOLDING, not part of embedding vnic: gives a tap-backed NIC someone to talk to without
 * touching the host's network. The tap the device created (named in the NIC's backend section)
 * moves into a fresh network namespace as 10.201.<r>.1/24; the kernel there answers ARP and
 * pings. A real VMM plugs its taps into a bridge or routes them instead.
 */
export async function namespacePeer(nic: VmmNic, entry: Readonly<Record<string, unknown>>): Promise<Peer> {
  const section = entry[nic.device.backend];
  const tap = typeof section === 'object' && section !== null ? (section as Record<string, unknown>)['tap'] : undefined;
  if (typeof tap !== 'string') {
    throw new Error(
      `NIC ${nic.device.id} (backend ${nic.device.backend}) names no tap: the namespace peer needs a tap-backed NIC; pass main({ peer }) for others`,
    );
  }
  const r = 1 + Math.floor(Math.random() * 250);
  const ns = await Netns.create('vexns');
  try {
    await ns.moveLink(tap);
    await ns.addAddress(tap, `10.201.${r}.1/24`);
    await ns.setUp(tap);
  } catch (err) {
    await ns.delete().catch(() => {});
    throw err;
  }
  return { ip: `10.201.${r}.1`, guestIp: `10.201.${r}.2`, close: () => ns.delete() };
}
