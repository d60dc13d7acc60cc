import { randomInt } from 'node:crypto';
import { featureBit, VIRTIO_F_RING_PACKED } from '@vnic/core';
import { describeFeatures, VhostUserDeviceServer } from '@vnic/vhost-user-device';
import { afterAll, describe, expect, it } from 'vitest';
import { needsPeer, Netns, uniqueName } from '@vnic/sys/testing';
import { qemuMissing, socketDir } from './peerSupport.ts';
import { runTcpCheckGuest, startTcpCheckServer, vhostUserNicArgs } from './tcpCheckServer.ts';

// A REAL Linux guest on vnic's device with a PACKED ring: QEMU's virtio-net-pci with packed=on
// over a vhost-user netdev whose backend is vnic serve's VhostUserDeviceServer. The guest's own
// virtio_net driver (Linux 6.1, virtio_ring's packed code) must negotiate VIRTIO_F_RING_PACKED
// (bit 34 of /sys/class/net/<dev>/device/features, one '0'/'1' per bit), ping the namespace and
// move MiBs both ways over TCP with the bytes checked: vnic's IO threads ran PackedQueue on
// every data ring.

const missing = needsPeer('vhost-user device + QEMU (packed ring)', qemuMissing()).reason;
const sockets = socketDir();
afterAll(() => sockets.remove());
const BYTES = 4 << 20;

describe.skipIf(missing !== undefined)('vhost-user device: QEMU packed=on with a real Linux guest', () => {
  it('the guest negotiates RING_PACKED, pings the namespace and moves 4 MiB each way over TCP with the bytes checked', async () => {
    const subnet = `10.${randomInt(100, 200)}.${randomInt(1, 250)}`;
    const sock = sockets.path('packed.sock');
    const ns = Netns.create('vnpk');
    let server: VhostUserDeviceServer | undefined;
    let py: ReturnType<Netns['spawn']> | undefined;
    try {
      ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
      server = VhostUserDeviceServer.open({ socket: sock, tap: uniqueName('vpk'), queuePairs: 1 });
      ns.adopt(server.tapName);
      ns.ip('addr', 'add', `${subnet}.1/24`, 'dev', server.tapName);
      ns.ip('link', 'set', server.tapName, 'up');
      let features: bigint | undefined;
      const log: string[] = [];
      server.events.on('negotiated', (n) => {
        features = n.features;
        log.push(`negotiated ${describeFeatures(n.features)}`);
      });
      server.events.on('warning', (w) => log.push(`warning ${w}`));
      server.events.on('disconnected', (r) => log.push(`disconnected ${r?.message ?? ''}`));
      server.start();

      const tcp = await startTcpCheckServer(ns, `${subnet}.1`, 5001, BYTES);
      py = tcp.child;

      const script = `set -e
dev=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
f=$(cat /sys/class/net/$dev/device/features)
echo "guest driver features $f"
echo "guest RING_PACKED bit $(echo "$f" | cut -c35)"
ip link set "$dev" up
ip addr add ${subnet}.2/24 dev "$dev"
ping -c 3 -W 5 ${subnet}.1
python3 /run/testvm/tcpcheck.py client ${subnet}.1 5001 ${BYTES}
echo "guest tcp check done"
`;
      const run = await runTcpCheckGuest(script, vhostUserNicArgs(sock, { deviceProps: ['packed=on'] }), {
        onProgress: (p) => console.log(`[qemu guest, packed] ${p}`),
      });
      const code = await tcp.exited;
      const hostOut = tcp.output();
      console.log(`[qemu guest, packed] ${log.join('\n')}\n${run.output}\n${hostOut}`);
      expect(run.exitCode, run.output).toBe(0);
      // Both sides: vnic serve saw RING_PACKED acked, and the guest's driver reports it in use.
      expect(features! & featureBit(VIRTIO_F_RING_PACKED)).not.toBe(0n);
      expect(run.output).toContain('guest RING_PACKED bit 1');
      expect(run.output).toMatch(/3 packets transmitted, 3 (packets )?received/);
      expect(run.output).toContain(`client: received ${BYTES} bytes, sha256 ok`);
      expect(code).toBe(0);
      expect(hostOut).toContain(`server: received ${BYTES} bytes, sha256 ok`);
      const [rx0, tx0] = server.stats();
      expect(rx0!.packets).toBeGreaterThan(BYTES / 65536);
      expect(tx0!.packets).toBeGreaterThan(BYTES / 65536);
      expect(rx0!.malformed + tx0!.malformed).toBe(0);
    } finally {
      if (py !== undefined && py.exitCode === null) py.kill('SIGKILL');
      await server?.close();
      ns.delete();
    }
  }, 360_000);
});
