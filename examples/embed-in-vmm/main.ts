import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { uniqueName } from '@vnic/cli';
import type { QueueStats } from '@vnic/core';
import { GuestNetStack, VirtioNetDriver, driverPort, formatMac } from '@vnic/driver';
import type { Container } from 'inversify';
import { MiniVmm } from './MiniVmm.ts';
import { namespacePeer } from './namespacePeer.ts';
import type { Peer } from './Peer.ts';
import type { VmmNic } from './VmmNic.ts';
import { errorMessage } from '@vnic/core';

/** Guest RAM of the toy VM: a sparse memfd, pages are allocated only when touched. */
const RAM_BYTES = 512 << 20;
/** Where the guest kernel starts placing NIC rings and buffers (below: "the rest of the guest"). */
const GUEST_NIC_AREA = 16 << 20;

/** Options of main(); every one has a default, so `main()` runs the example as shipped. */
export interface MainOptions {
  /** The VM config (default: ./vm-config.json with each tap renamed to a unique name). */
  readonly config?: unknown;
  /** The container the NICs' backends come from (default: createVnicContainer(), every backend vnic ships). */
  readonly container?: Container;
  /** Builds the host-side peer of a NIC (default: namespacePeer, for tap-backed NICs). */
  readonly peer?: (nic: VmmNic, entry: Readonly<Record<string, unknown>>) => Promise<Peer>;
  /** Pings per NIC (default 3). */
  readonly pings?: number;
  /** Where progress lines go (default: console.log). */
  readonly log?: (line: string) => void;
}

/** What happened on one NIC. */
export interface NicOutcome {
  /** The NIC's id from the config. */
  readonly id: string;
  /** The backend that built it. */
  readonly backend: string;
  /** The peer's MAC as ARP resolved it. */
  readonly peerMac: string;
  /** Round-trip time of each ping, ms. */
  readonly rtts: readonly number[];
  /** device.stats() just before shutdown. */
  readonly stats: readonly QueueStats[];
  /** MMIO exits the guest made into this NIC's window. */
  readonly mmioExits: number;
}

/** What main() did: one outcome per NIC. */
export interface MainResult {
  /** One entry per NIC, in config order. */
  readonly nics: readonly NicOutcome[];
}

async function defaultConfig(): Promise<unknown> {
  const raw = JSON.parse(await readFile(new URL('./vm-config.json', import.meta.url), 'utf8')) as { net: Record<string, unknown>[] };
  for (const entry of raw.net) {
    const section = entry[String(entry['backend'])];
    if (typeof section === 'object' && section !== null && 'tap' in section) entry[String(entry['backend'])] = { ...section, tap: uniqueName('vex') };
  }
  return raw;
}

/**
 * Boots the MiniVmm with the NICs of the VM config, runs a TypeScript guest kernel on each (a
 * VirtioNetDriver attached through the VMM's MMIO exits, memory and eventfds, plus a tiny IPv4
 * stack), resolves and pings the NIC's peer, prints what happens, and shuts everything down.
 */
export async function main(options: MainOptions = {}): Promise<MainResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const config = options.config ?? (await defaultConfig());
  const entries = (config as { net: Record<string, unknown>[] }).net;
  const vmm = await MiniVmm.boot(config, {
    ramBytes: RAM_BYTES,
    log,
    source: 'vm-config.json',
    ...(options.container === undefined ? {} : { container: options.container }),
  });
  const guests: VirtioNetDriver[] = [];
  const peers: Peer[] = [];
  const outcomes: NicOutcome[] = [];
  try {
    // The guest kernel probes each virtio-mmio window: every register access below is an MMIO
    // exit that the VMM forwards to the NIC's transport. Its rings and buffers live in guest RAM.
    let next = GUEST_NIC_AREA;
    const exits = new Map<VmmNic, number>();
    for (const nic of vmm.nics) {
      const need = VirtioNetDriver.guestMemoryBytes({ queuePairs: nic.device.queuePairs, queueSize: Math.min(256, nic.device.queueMaxSize) });
      exits.set(nic, 0);
      const count = (): void => void exits.set(nic, exits.get(nic)! + 1);
      const driver = await VirtioNetDriver.attach({
        mmio: {
          read: (offset, size) => (count(), vmm.mmioRead(nic.mmioBase + offset, size)),
          write: (offset, size, value) => (count(), vmm.mmioWrite(nic.mmioBase + offset, size, value)),
          // The vCPU of a Status write resumes once the VMM has activated or reset the device.
          settled: () => vmm.settled(),
        },
        memory: vmm.ram.memory,
        ram: { base: next, size: need },
        eventFds: (q) => nic.eventFds.get(q)!,
        notify: 'mmio',
        device: nic.device,
      });
      next += need;
      guests.push(driver);
      log(
        `${nic.device.id}: guest driver up (DRIVER_OK) after ${exits.get(nic)} MMIO exits: MAC ${formatMac(driver.readConfig().mac)}, ${driver.queuePairs} queue pair(s) of ${driver.queueSize}`,
      );
    }

    for (const [i, nic] of vmm.nics.entries()) {
      const driver = guests[i]!;
      const peer = await (options.peer ?? namespacePeer)(nic, entries[i]!);
      peers.push(peer);
      const stack = new GuestNetStack(driverPort(driver), { mac: driver.readConfig().mac, ip: peer.guestIp });
      const peerMac = formatMac(await stack.resolve(peer.ip, 3000));
      log(`${nic.device.id}: ARP ${peer.ip} is at ${peerMac}`);
      const rtts: number[] = [];
      for (let seq = 1; seq <= (options.pings ?? 3); seq++) {
        rtts.push(await stack.ping(peer.ip, seq, 56, 2000));
        log(`${nic.device.id}: ping ${peer.ip} seq ${seq}: ${rtts.at(-1)!.toFixed(3)} ms`);
      }
      const stats = nic.device.stats();
      const moved = stats.reduce((n, s) => n + s.packets, 0);
      log(`${nic.device.id}: ${moved} frames moved by the device (${stats.map((s) => `q${s.index} ${s.packets}`).join(', ')}), ${exits.get(nic)} MMIO exits`);
      outcomes.push({ id: nic.device.id, backend: nic.device.backend, peerMac, rtts, stats, mmioExits: exits.get(nic)! });
    }
    return { nics: outcomes };
  } finally {
    // Guest shutdown (status 0 resets each NIC), then the VMM releases devices, eventfds and RAM,
    // then the peers go.
    for (const driver of guests) await driver.close();
    await vmm.shutdown();
    for (const peer of peers) await peer.close();
    log('shut down: guest drivers closed, NICs closed, eventfds and guest RAM released');
  }
}

// `pnpm --filter @vnic/example-embed-in-vmm start` (needs root and the virtio-net backend).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await main();
  } catch (err) {
    console.error(`embed-in-vmm: ${errorMessage(err)}`);
    process.exitCode = 1;
  }
  setTimeout(() => process.exit(), 1000).unref();
}
