import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { featureBit, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_VERSION_1 } from '@vnic/core';
import { VIRTIO_NET_F_MRG_RXBUF } from '@vnic/core/virtio_net';
import { describeFeatures, VhostUserDeviceServer } from '@vnic/vhost-user-device';
import { afterAll, describe, expect, it } from 'vitest';
import { Netns, uniqueName } from '@vnic/sys/testing';
import { qemuMissing, socketDir } from './peerSupport.ts';
import { runTcpCheckGuest, startTcpCheckServer, vhostUserNicArgs } from './tcpCheckServer.ts';
import { needsPeer } from '@vnic/sys/testing';

// A REAL Linux guest on vnic's device: QEMU (TCG, q35) boots the Debian kernel (@vnic/testvm), its
// virtio-net-pci NIC (vectors=0, PEERS.md) sits on a vhost-user netdev whose backend is vnic's
// VhostUserDeviceServer, running here; the tap is in a namespace with an address. The guest's own
// virtio_net driver negotiates, pings the namespace and moves MiBs over TCP both ways with the bytes
// checked; then again with two queue pairs and mq=on.

const missing = needsPeer('vhost-user device + QEMU', qemuMissing()).reason;

const sockets = socketDir();
afterAll(() => sockets.remove());
const MiB = 1 << 20;

interface GuestRun {
  readonly features: bigint;
  readonly output: string;
  readonly hostLines: string[];
  readonly stats: ReturnType<VhostUserDeviceServer['stats']>;
  readonly pairsStarted: Set<number>;
  readonly log: readonly string[];
}

/** Boots the guest with `queuePairs` queue pairs served by vnic and runs the ping + TCP checks. */
async function guestOnVnic(queuePairs: number, bytes: number, memoryMiB = 512): Promise<GuestRun> {
  const subnet = `10.${randomInt(100, 200)}.${randomInt(1, 250)}`;
  const sock = sockets.path(`qemu-${queuePairs}.sock`);
  const ns = Netns.create('vnuq');
  const children: ChildProcessWithoutNullStreams[] = [];
  let server: VhostUserDeviceServer | undefined;
  try {
    ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
    server = VhostUserDeviceServer.open({ socket: sock, tap: uniqueName('vuq'), queuePairs });
    ns.adopt(server.tapName);
    ns.ip('addr', 'add', `${subnet}.1/24`, 'dev', server.tapName);
    ns.ip('link', 'set', server.tapName, 'up');
    let features: bigint | undefined;
    const pairsStarted = new Set<number>();
    const log: string[] = [];
    server.events.on('negotiated', (n) => {
      features = n.features;
      log.push(`negotiated ${describeFeatures(n.features)}`);
    });
    server.events.on('rings-started', (r) => {
      if (r.rx && r.tx) pairsStarted.add(r.pair);
    });
    server.events.on('disconnected', (r) => log.push(`disconnected ${r?.message ?? ''}`));
    server.events.on('warning', (w) => log.push(`warning ${w}`));
    server.events.on('memory', (m) => log.push(`memory ${m.regions.map((r) => `0x${r.guestPhysAddr.toString(16)}+0x${r.size.toString(16)}`).join(' ')}`));
    server.start();

    // One checked TCP exchange per queue pair, each on its own port (and, in the guest, its own CPU).
    const hostLines: string[] = [];
    const serversDone: Promise<number | null>[] = [];
    for (let k = 0; k < queuePairs; k++) {
      const tcp = await startTcpCheckServer(ns, `${subnet}.1`, 5001 + k, bytes);
      children.push(tcp.child);
      serversDone.push(
        tcp.exited.then((code) => {
          hostLines.push(...tcp.output().trim().split('\n'));
          return code;
        }),
      );
    }

    const clients = Array.from(
      { length: queuePairs },
      (_, k) => `taskset -c ${k} python3 /run/testvm/tcpcheck.py client ${subnet}.1 ${5001 + k} ${bytes} & pids="$pids $!"`,
    ).join('\n');
    const script = `set -e
dev=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
echo "guest nic $dev driver features $(cat /sys/class/net/$dev/device/features)"
echo "guest queues $(ls /sys/class/net/$dev/queues | tr '\\n' ' ')"
ip link set "$dev" up
ip addr add ${subnet}.2/24 dev "$dev"
ping -c 3 -W 5 ${subnet}.1
pids=""
${clients}
for p in $pids; do wait "$p"; done
echo "guest tcp checks done"
`;
    const run = await runTcpCheckGuest(script, vhostUserNicArgs(sock, { queuePairs }), {
      memoryMiB,
      onProgress: (p) => console.log(`[qemu guest, ${queuePairs} pair(s)] ${p}`),
    });
    const codes = await Promise.all(serversDone);
    console.log(`[qemu guest, ${queuePairs} pair(s)] ${log.join('\n')}\n${run.output}`);
    expect(run.exitCode, run.output).toBe(0);
    expect(codes).toEqual(Array(queuePairs).fill(0));
    expect(features).toBeDefined();
    return { features: features!, output: run.output, hostLines, stats: server.stats(), pairsStarted, log };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await server?.close();
    ns.delete();
  }
}

describe.skipIf(missing !== undefined)('vhost-user device: QEMU with a real Linux guest (virtio_net driver)', () => {
  it('the guest negotiates, pings the namespace, moves 4 MiB each way over TCP with the bytes checked', async () => {
    const r = await guestOnVnic(1, 4 * MiB);
    // The features the real driver took (recorded in the log line above), through QEMU.
    for (const bit of [VIRTIO_F_VERSION_1, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_NET_F_MRG_RXBUF])
      expect(r.features & featureBit(bit)).not.toBe(0n);
    expect(r.output).toMatch(/3 packets transmitted, 3 (packets )?received/);
    expect(r.output).toContain('client: received 4194304 bytes, sha256 ok');
    expect(r.hostLines).toContain('server: received 4194304 bytes, sha256 ok');
    const [rx0, tx0] = r.stats;
    expect(rx0!.packets).toBeGreaterThan((4 * MiB) / 65536);
    expect(tx0!.packets).toBeGreaterThan((4 * MiB) / 65536);
    expect(rx0!.malformed + tx0!.malformed).toBe(0);
  }, 360_000);

  it('an 8 GiB guest (memory-backend-memfd,size=8G,share=on: a region above 4 GiB, bigger than one view): ping and TCP both ways with the bytes checked', async () => {
    const r = await guestOnVnic(1, 4 * 1024 * 1024, 8192);
    // q35 puts RAM above 2 GiB at 4 GiB: the table has a region that starts at 4 GiB and is 6 GiB long.
    expect(
      r.log.some((l) => /^memory .*0x100000000\+0x180000000/.test(l)),
      r.log.join('\n'),
    ).toBe(true);
    expect(r.output).toContain('client: received 4194304 bytes, sha256 ok');
    expect(r.hostLines).toContain('server: received 4194304 bytes, sha256 ok');
  }, 330_000);

  it('two queue pairs (mq=on): the driver enables pair 1, a checked TCP exchange runs from each guest CPU', async () => {
    const r = await guestOnVnic(2, 2 * MiB);
    expect(r.output).toMatch(/guest queues rx-0 rx-1 tx-0 tx-1/);
    expect([...r.pairsStarted].sort()).toEqual([0, 1]);
    expect(r.output.match(/client: received 2097152 bytes, sha256 ok/g)).toHaveLength(2);
    expect(r.hostLines.filter((l) => l === 'server: received 2097152 bytes, sha256 ok')).toHaveLength(2);
    const tx1 = r.stats[3]!;
    console.log(`per-queue packets: ${r.stats.map((s) => `${s.index}:${s.packets}`).join(' ')}`);
    // XPS maps guest CPU 1 to transmitq 1: the flow sent from that CPU went through pair 1's IO thread.
    expect(tx1.packets).toBeGreaterThan(0);
  }, 360_000);
});
