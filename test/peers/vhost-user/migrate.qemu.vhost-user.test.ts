import { randomInt } from 'node:crypto';
import { prepareTestVm } from '@vnic/testvm';
import { afterAll, describe, expect, it } from 'vitest';
import { Netns, needsPeer, uniqueName } from '@vnic/sys/testing';
import { startServe, type ServeProcess } from '../../cli/serveProcess.ts';
import { Hmp, MIGRATION_PEER_SCRIPT, startMigrationQemu, writeMigrationInitramfs, type MigrationQemu } from './migrationRig.ts';
import { qemuMissing, socketDir } from './peerSupport.ts';

// A REAL live migration of a Linux guest whose NIC vnic serves: two QEMU processes on this host
// (the source, and a destination started with -incoming), each with its own `vnic serve`; their
// taps are bridged in a namespace where a peer streams seeded bytes through the guest's echo
// server and checks every byte that comes back. HMP `migrate -d` runs while the stream flows: the
// source's vnic serve maps QEMU's dirty log (SET_LOG_BASE with LOG_SHMFD) and marks every page
// it writes while VHOST_F_LOG_ALL is on; at the switch-over GET_VRING_BASE stops its rings and
// the destination's vnic serve starts them where they stopped. The stream goes on through the
// destination (its tap carries the guest's frames), no byte differs, and the guest's announce
// (a gratuitous ARP: VIRTIO_NET_F_GUEST_ANNOUNCE, passed to the guest because vnic serve offers
// it) arrives on the destination's tap.

const missing = needsPeer('live migration with two QEMU + vnic serve', qemuMissing()).reason;
const sockets = socketDir();
afterAll(() => sockets.remove());
const KiB = 1024;
const MiB = 1024 * KiB;

async function until(what: string, cond: () => boolean, timeoutMs: number, context: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(missing !== undefined)('live migration of a QEMU guest on vnic serve', () => {
  it('migrate -d while a checked TCP stream runs: the stream goes on through the destination, every byte checked, the guest announces itself', async () => {
    const image = await prepareTestVm({ machine: 'q35' });
    const subnet = `10.${randomInt(100, 200)}.${randomInt(1, 250)}`;
    const guestIp = `${subnet}.2`;
    const mac = `52:54:00:${randomInt(16, 255).toString(16)}:${randomInt(16, 255).toString(16)}:02`;
    const initramfs = sockets.path('migrate-initramfs.cpio');
    writeMigrationInitramfs(image, guestIp, initramfs);
    const port = randomInt(20_000, 60_000);
    const ns = Netns.create('vnmig');
    const serves: ServeProcess[] = [];
    const qemus: MigrationQemu[] = [];
    const peers: ReturnType<Netns['spawn']>[] = [];
    const hmps: Hmp[] = [];
    let peerOut = '';
    let garpOut = '';
    const context = (): string =>
      [
        `source serve:\n${serves[0]?.output() ?? ''}`,
        `destination serve:\n${serves[1]?.output() ?? ''}`,
        `source QEMU:\n${qemus[0]?.output() ?? ''}`,
        `destination QEMU:\n${qemus[1]?.output() ?? ''}`,
        `peer:\n${peerOut.split('\n').slice(-8).join('\n')}`,
        `garp:\n${garpOut}`,
      ].join('\n');
    try {
      ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
      const br = uniqueName('vmbr');
      ns.ip('link', 'add', br, 'type', 'bridge');
      ns.ip('addr', 'add', `${subnet}.1/24`, 'dev', br);
      ns.ip('link', 'set', br, 'up');
      const taps = [uniqueName('vmsa'), uniqueName('vmda')];
      for (const t of taps) {
        ns.ip('tuntap', 'add', 'dev', t, 'mode', 'tap', 'multi_queue', 'vnet_hdr');
        ns.ip('link', 'set', t, 'master', br);
        ns.ip('link', 'set', t, 'up');
      }
      const rxBytes = (tap: string): number => Number(ns.exec('cat', `/sys/class/net/${tap}/statistics/rx_bytes`)); // what vnic serve wrote into the tap
      const socks = [sockets.path('mig-src.sock'), sockets.path('mig-dst.sock')];
      const mons = [sockets.path('mig-src.hmp'), sockets.path('mig-dst.hmp')];
      for (let i = 0; i < 2; i++) serves.push(startServe(['--socket', socks[i]!, '--client', '--tap', taps[i]!], ['ip', 'netns', 'exec', ns.name]));
      for (let i = 0; i < 2; i++) {
        qemus.push(
          startMigrationQemu(
            {
              image,
              initramfs,
              memoryMiB: 256,
              socket: socks[i]!,
              monitor: mons[i]!,
              mac,
              ...(i === 1 ? { incoming: `tcp:127.0.0.1:${port}` } : {}),
            },
            300,
          ),
        );
      }
      const src = qemus[0]!;
      await serves[0]!.waitFor(/queue pair 0 running \(receiveq \+ transmitq\)/, 180_000);
      await until('the guest echo server', () => src.output().includes('migrate-guest: echo server on 5002'), 180_000, context);

      const peer = ns.spawn('python3', '-c', MIGRATION_PEER_SCRIPT, 'echo', guestIp, '5002', String(512 * KiB));
      peers.push(peer);
      peer.stdout.on('data', (d: Buffer) => (peerOut += d.toString()));
      peer.stderr.on('data', (d: Buffer) => (peerOut += d.toString()));
      const garp = ns.spawn('python3', '-c', MIGRATION_PEER_SCRIPT, 'garp', taps[1]!, mac);
      peers.push(garp);
      garp.stdout.on('data', (d: Buffer) => (garpOut += d.toString()));
      garp.stderr.on('data', (d: Buffer) => (garpOut += d.toString()));
      const echoed = (): number => Number(/echoed (\d+)\n(?![\s\S]*echoed)/.exec(peerOut)?.[1] ?? 0);
      const peerFailed = (): boolean => /MISMATCH|closed after|no echo server/.test(peerOut) || peer.exitCode !== null;
      await until('the garp watcher', () => garpOut.includes('watching'), 30_000, context);
      await until('1 MiB echoed before the migration', () => echoed() >= MiB || peerFailed(), 120_000, context);
      expect(peerFailed(), context()).toBe(false);

      const hmpSrc = await Hmp.connect(mons[0]!, 30_000);
      hmps.push(hmpSrc);
      const hmpDst = await Hmp.connect(mons[1]!, 30_000);
      hmps.push(hmpDst);
      const atStart = echoed();
      const dstRxAtStart = rxBytes(taps[1]!);
      expect(await hmpSrc.cmd(`migrate -d tcp:127.0.0.1:${port}`)).not.toMatch(/error/i);
      let info = '';
      const t0 = Date.now();
      for (;;) {
        info = await hmpSrc.cmd('info migrate');
        if (/Migration status: (completed|failed|cancelled)/.test(info)) break;
        if (Date.now() - t0 > 120_000) throw new Error(`the migration did not finish within 120 s:\n${info}\n${context()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(info, `${info}\n${context()}`).toContain('Migration status: completed');
      const atSwitch = echoed();
      // The stream carries on through the destination: 2 MiB more echoed and checked, the
      // guest's frames now leaving through the destination's tap, the peer's connection the same.
      await until('2 MiB more echoed after the switch-over', () => echoed() >= atSwitch + 2 * MiB || peerFailed(), 120_000, context);
      expect(peerFailed(), context()).toBe(false);
      expect(rxBytes(taps[1]!) - dstRxAtStart, context()).toBeGreaterThan(2 * MiB);
      await until('the guest announce on the destination tap', () => garpOut.includes(`garp ${guestIp}`), 30_000, context);
      expect(await hmpDst.cmd('info status')).toContain('running');
      expect(await hmpSrc.cmd('info status')).toMatch(/postmigrate/);

      const downtime = /downtime: (\d+) ms/.exec(info)?.[1];
      const total = /total time: (\d+) ms/.exec(info)?.[1];
      // The source is done: quitting it ends its vhost-user connection, and its vnic serve reports
      // the pages it saw marked while logging (QEMU leaves LOG_ALL on after a completed migration).
      src.child.kill('SIGTERM');
      await src.exited;
      await serves[0]!.waitFor(/dirty log: .*logging off: \d+ page\(s\) seen marked, \d+ page mark\(s\) set by vnic \(exact\)/, 30_000);
      const sourceServe = serves[0]!.output();
      expect(sourceServe, context()).toMatch(/dirty log: \d+ bytes mapped .*, logging on/);
      // Exact: every bit vnic set from 0 to 1 in QEMU's log (QEMU only clears them as it syncs), so
      // the number of page marks QEMU received from vnic; `seen` is the sampled distinct pages (a lower bound).
      const [, seen, logged] = /dirty log: .*logging off: (\d+) page\(s\) seen marked, (\d+) page mark\(s\) set by vnic \(exact\)/.exec(sourceServe) ?? [];
      console.log(
        `[migrate] downtime ${downtime} ms, total ${total} ms, echoed ${atStart} bytes before, ${atSwitch - atStart} during, ${echoed() - atSwitch} after; pages vnic logged: ${logged ?? 'n/a'} (exact; at least ${seen ?? 'n/a'} distinct)\n${info}`,
      );
      expect(Number(downtime)).toBeGreaterThan(0);
      expect(Number(logged), context()).toBeGreaterThan(0); // the source's vnic serve marked its RX and used-ring writes
      expect(Number(logged), context()).toBeGreaterThanOrEqual(Number(seen)); // every distinct page seen was set at least once
    } finally {
      for (const h of hmps) h.close();
      for (const p of peers) if (p.exitCode === null) p.kill('SIGKILL');
      for (const q of qemus) if (q.child.exitCode === null) q.child.kill('SIGTERM');
      for (const q of qemus) await q.exited;
      for (const p of serves) if (p.child.exitCode === null) p.child.kill('SIGTERM');
      for (const p of serves) await p.exited;
      ns.delete();
    }
  }, 300_000);
});
