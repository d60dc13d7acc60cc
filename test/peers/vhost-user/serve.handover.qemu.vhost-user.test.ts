import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseVhostUserDeviceState } from '@vnic/vhost-user-device';
import { afterAll, describe, expect, it } from 'vitest';
import { Netns, needsPeer, uniqueName } from '@vnic/sys/testing';
import { startServe, type ServeProcess } from '../../cli/serveProcess.ts';
import { qemuMissing, socketDir } from './peerSupport.ts';
import { runTcpCheckGuest, startTcpCheckServer, vhostUserNicArgs } from './tcpCheckServer.ts';

// `vnic serve` hand-over under a REAL Linux guest: QEMU (TCG, q35, @vnic/testvm) listens on the
// vhost-user socket (chardev server=on), a `vnic serve --client` process serves its virtio-net-pci
// NIC onto a tap in a namespace; the guest sends a checked TCP stream to the namespace. Mid-stream
// SIGUSR2 makes that vnic serve save the device state and stop; a new `vnic serve --state` takes
// over, QEMU reconnects its vhost-user netdev, the rings resume where they stopped, and the TCP
// connection carries on: every byte arrives, checked by sha256 on both ends.

const missing = needsPeer('vnic serve hand-over + QEMU', qemuMissing()).reason;
const sockets = socketDir();
afterAll(() => sockets.remove());
const MiB = 1 << 20;

describe.skipIf(missing !== undefined)('vnic serve: hand-over under a QEMU Linux guest with a TCP stream', () => {
  it('SIGUSR2 mid-stream, a new vnic serve --state takes over: QEMU reconnects, the TCP stream completes with every byte checked', async () => {
    const bytes = 48 * MiB;
    const subnet = `10.${randomInt(100, 200)}.${randomInt(1, 250)}`;
    const sock = sockets.path('qemu-handover.sock');
    const stateFile = sockets.path('qemu-handover.json');
    const ns = Netns.create('vnhq');
    const procs: ServeProcess[] = [];
    let py: ReturnType<Netns['spawn']> | undefined;
    try {
      ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
      const tap = uniqueName('vhq');
      ns.ip('tuntap', 'add', 'dev', tap, 'mode', 'tap', 'multi_queue', 'vnet_hdr');
      ns.ip('addr', 'add', `${subnet}.1/24`, 'dev', tap);
      ns.ip('link', 'set', tap, 'up');
      const tcp = await startTcpCheckServer(ns, `${subnet}.1`, 5001, bytes);
      py = tcp.child;
      const serve = (more: string[]): ServeProcess => {
        const p = startServe(['--socket', sock, '--client', '--tap', tap, ...more], ['ip', 'netns', 'exec', ns.name]);
        procs.push(p);
        return p;
      };
      const a = serve(['--save-state', stateFile]);
      const fromGuest = (): number => Number(ns.exec('cat', `/sys/class/net/${tap}/statistics/rx_bytes`)); // what vnic wrote into the tap
      let b: ServeProcess | undefined;
      // The hand-over, once a quarter of the guest's stream reached the namespace.
      const handOver = (async (): Promise<void> => {
        await a.waitFor(/queue pair 0 running \(receiveq \+ transmitq\)/, 240_000); // QEMU listens once the VM is built
        const deadline = Date.now() + 240_000;
        while (fromGuest() < bytes / 4) {
          if (Date.now() > deadline || a.child.exitCode !== null) throw new Error(`the guest's stream never reached ${bytes / 4} bytes:\n${a.output()}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        a.child.kill('SIGUSR2');
        expect(await a.exited).toBe(0);
        b = serve(['--state', stateFile]);
        await b.waitFor(/queue pair 0 running \(receiveq \+ transmitq\)/);
      })();
      handOver.catch(() => undefined); // awaited after the VM run; its failure is reported there
      const script = `set -e
dev=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
ip link set "$dev" up
ip addr add ${subnet}.2/24 dev "$dev"
ping -c 1 -W 10 ${subnet}.1
python3 /run/testvm/tcpcheck.py client ${subnet}.1 5001 ${bytes}
echo "guest tcp check done"
`;
      const run = await runTcpCheckGuest(script, vhostUserNicArgs(sock, { listen: true }));
      await handOver;
      const hostCode = await tcp.exited;
      const host = tcp.output();
      const s1 = parseVhostUserDeviceState(JSON.parse(readFileSync(stateFile, 'utf8')), stateFile);
      console.log(`[hand-over] first:\n${a.output()}\nsecond:\n${b?.output() ?? ''}\nhost: ${host}\nguest:\n${run.output}`);
      expect(run.exitCode, run.output).toBe(0);
      expect(hostCode, host).toBe(0);
      expect(run.output).toContain(`client: received ${bytes} bytes, sha256 ok`);
      expect(host).toContain(`server: received ${bytes} bytes, sha256 ok`);
      // The second server resumed both rings where they were, not at 0: at the saved index, or
      // further on where QEMU moved a ring itself meanwhile (it drops what the guest sends while
      // no backend is connected and marks it used); either way at the used index in memory.
      for (const q of s1.queues.filter((x) => x.index < 2)) {
        expect(q.nextAvail).toBeGreaterThan(0);
        const m = new RegExp(`vring ${q.index} resumes at avail index (\\d+) \\(used (\\d+);`).exec(b!.output());
        expect(m, b!.output()).not.toBeNull();
        expect(Number(m![1])).toBe(Number(m![2]));
        expect(Number(m![1])).toBeGreaterThanOrEqual(q.nextAvail);
      }
    } finally {
      for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
      if (py !== undefined && py.exitCode === null) py.kill('SIGKILL');
      ns.delete();
    }
  }, 360_000);
});
