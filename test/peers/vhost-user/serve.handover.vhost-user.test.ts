import { PacketSocket } from '@vnic/sys';
import { parseVhostUserDeviceState, type VhostUserDeviceState } from '@vnic/vhost-user-device';
import { Testpmd } from '@vnic/cli';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Netns, uniqueName } from '@vnic/sys/testing';
import { startServe, type ServeProcess } from '../../cli/serveProcess.ts';
import { peerMissing, socketDir } from './peerSupport.ts';
import { TapSide } from './TapSide.ts';

// `vnic serve` hand-over with a real frontend: DPDK testpmd's net_virtio_user listens (server=1)
// in macswap mode; a first `vnic serve --client` process serves it and moves checked frames
// between a tap (in a throw-away namespace) and testpmd; SIGUSR2 makes it save the device state
// and stop; a second `vnic serve --state` process takes the device over, testpmd reconnects to it
// and its rings resume where they stopped (virtio_user sends SET_VRING_BASE 0 on a reconnect:
// without the state the new backend would start at 0 on rings whose avail index is far ahead).

const missing = Testpmd.ensure();
const skip = peerMissing(missing);
const sockets = socketDir();
afterAll(() => sockets.remove());

const readState = (file: string): VhostUserDeviceState => parseVhostUserDeviceState(JSON.parse(readFileSync(file, 'utf8')), file);

describe.skipIf(skip)('vnic serve: hand-over to a new vnic serve, DPDK testpmd virtio_user as the frontend', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('SIGUSR2 saves the state, a new vnic serve --state takes over: testpmd reconnects, rings and counters continue, frames intact', async () => {
    const ns = Netns.create('vnho');
    cleanup.push(() => ns.delete());
    ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
    // A tap that outlives each vnic serve (both attach to it by name), in the namespace.
    const tap = uniqueName('vho');
    ns.ip('tuntap', 'add', 'dev', tap, 'mode', 'tap', 'multi_queue', 'vnet_hdr');
    ns.ip('link', 'set', tap, 'up');
    const side = new TapSide(ns, tap, PacketSocket.open(tap, { netns: ns.name }));
    cleanup.push(() => side.sock.close());

    const sock = sockets.path('handover.sock');
    const saved1 = sockets.path('state1.json');
    const saved2 = sockets.path('state2.json');
    const pmd = await Testpmd.start({ socket: sock, role: 'virtio-user', client: false, forwardMode: 'macswap' });
    cleanup.push(() => pmd.stop());
    const serve = (more: string[]): ServeProcess => {
      const p = startServe(['--socket', sock, '--client', '--tap', tap, '--allow-unsealed-memory', ...more], ['ip', 'netns', 'exec', ns.name]);
      cleanup.push(() => {
        if (p.child.exitCode === null) p.child.kill('SIGKILL');
      });
      return p;
    };

    // The first vnic serve: frames loop, then SIGUSR2 hands over.
    const a = serve(['--save-state', saved1]);
    await a.waitFor(/queue pair 0 running \(receiveq \+ transmitq\)/);
    await pmd.waitForwarding();
    await side.waitForwarding();
    for (let batch = 0; batch < 4; batch++) await side.macswapRoundTrip(batch * 32, 32);
    a.child.kill('SIGUSR2');
    expect(await a.exited).toBe(0);
    expect(a.output()).toMatch(new RegExp(`state saved to ${saved1} `));
    const s1 = readState(saved1);
    const [rx1, tx1] = [s1.queues.find((q) => q.index === 0)!, s1.queues.find((q) => q.index === 1)!];
    expect(rx1.counters.packets).toBeGreaterThanOrEqual(128);
    expect(tx1.counters.packets).toBeGreaterThanOrEqual(128);
    // Every frame here fits one RX buffer and is one TX chain: the rings' own indices (read from
    // guest memory) count the same frames as the counters.
    expect(rx1.nextUsed).toBe(rx1.counters.packets % 65536);
    expect(tx1.nextUsed).toBe((tx1.counters.packets + tx1.counters.drops) % 65536);
    expect(rx1.nextAvail).toBe(rx1.nextUsed); // quiesced: no chain half-done
    expect(tx1.nextAvail).toBe(tx1.nextUsed);

    // The second vnic serve takes the device over.
    const b = serve(['--state', saved1, '--save-state', saved2]);
    await b.waitFor(/queue pair 0 running \(receiveq \+ transmitq\)/);
    expect(b.output()).toMatch(new RegExp(`vring 0 resumes at avail index ${rx1.nextAvail} \\(used ${rx1.nextUsed}; the saved state`));
    expect(b.output()).toMatch(new RegExp(`vring 1 resumes at avail index ${tx1.nextAvail} \\(used ${tx1.nextUsed}; the saved state`));
    await side.waitForwarding();
    for (let batch = 0; batch < 4; batch++) await side.macswapRoundTrip(1000 + batch * 32, 32);
    expect(b.output()).not.toMatch(/warning/);
    b.child.kill('SIGUSR2');
    expect(await b.exited).toBe(0);
    const s2 = readState(saved2);
    const [rx2, tx2] = [s2.queues.find((q) => q.index === 0)!, s2.queues.find((q) => q.index === 1)!];
    // The rings went on from where the first server stopped, and the counters with them.
    expect(rx2.counters.packets).toBeGreaterThanOrEqual(rx1.counters.packets + 128);
    expect(tx2.counters.packets).toBeGreaterThanOrEqual(tx1.counters.packets + 128);
    expect(rx2.nextUsed).toBe(rx2.counters.packets % 65536);
    expect(tx2.nextUsed).toBe((tx2.counters.packets + tx2.counters.drops) % 65536);
    expect(rx2.counters.malformed + tx2.counters.malformed).toBe(0);
  }, 120_000);
});
