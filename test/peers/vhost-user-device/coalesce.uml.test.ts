import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { featureBit } from '@vnic/core';
import { VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_NOTF_COAL } from '@vnic/core/virtio_net';
import { needsPeer, Netns, uniqueName, waitUntil } from '@vnic/sys/testing';
import { VhostUserDeviceServer } from '@vnic/vhost-user-device';
import { afterAll, describe, expect, it } from 'vitest';
import { nsUdpFlood } from '../../fixtures/nsUdpFlood.ts';
import { socketDir } from '../vhost-user/peerSupport.ts';

// A REAL Linux guest driver sets notification coalescing on vnic's device with `ethtool -C`.
// QEMU cannot show this (its vhost-user netdev serves the control queue itself, and 7.2 has no
// NOTF_COAL); user-mode Linux can: its virtio_uml transport hands every virtqueue, the control
// queue included, and config space to the vhost-user backend. So the Linux 6.1 virtio_net driver
// (Debian's user-mode-linux kernel, its own module) talks straight to VhostUserDeviceServer in
// whole-device mode (`controlQueue: true`). The guest runs the host's programs (root on hostfs);
// host and guest meet in a directory both see. Two phases, coalescing off then `ethtool -C
// rx-frames 32 rx-usecs 20000`: a paced UDP stream into the guest, every datagram counted by a
// sink in the guest; interrupts read from the guest's /proc/interrupts; a ping's RTT in each.

const UML = '/usr/bin/linux.uml';
const RX_FRAMES = 32;
const RX_USECS = 20_000;
const RATE = 2000; // datagrams per second
const STREAM_MS = 2000;
/** UML's timers and its one vCPU add scheduling delay to a ping (ms), on top of the uncoalesced RTT. */
const RTT_SLACK_MS = 10;

function umlMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (tap, network namespace)';
  if (!existsSync(UML)) return `${UML} is missing (bash scripts/setup.sh installs user-mode-linux)`;
  for (const tool of ['/usr/sbin/ethtool', '/usr/bin/python3']) if (!existsSync(tool)) return `${tool} is missing (bash scripts/setup.sh installs it)`;
  return undefined;
}

const missing = needsPeer('vhost-user device + user-mode Linux (virtio_uml)', umlMissing()).reason;
const dirs = socketDir();
afterAll(() => dirs.remove());

/** The guest's init: load virtio_net, then both phases, reporting `VNIC ...` lines on the console. */
function guestInit(dir: string, subnet: string): string {
  const sink = `
import os, socket, sys, select
d = sys.argv[1]
socks = {}
for port in (9001, 9002):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(('0.0.0.0', port))
    socks[s] = port
counts = {9001: 0, 9002: 0}
open(os.path.join(d, 'sink-up'), 'w').close()
while True:
    r, _, _ = select.select(list(socks), [], [], 0.1)
    for s in r:
        while True:
            try:
                s.recv(2048, socket.MSG_DONTWAIT)
                counts[socks[s]] += 1
            except BlockingIOError:
                break
    for port, n in counts.items():
        with open(os.path.join(d, 'count-%d.tmp' % port), 'w') as f:
            f.write(str(n))
        os.rename(os.path.join(d, 'count-%d.tmp' % port), os.path.join(d, 'count-%d' % port))
`;
  writeFileSync(join(dir, 'sink.py'), sink);
  return `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
D=${dir}
mount -t proc proc /proc
mount -t sysfs sys /sys
M=/usr/lib/uml/modules/$(uname -r)/kernel
insmod $M/net/core/failover.ko && insmod $M/drivers/net/net_failover.ko && insmod $M/drivers/net/virtio_net.ko || echo "VNIC FAIL insmod"
for i in $(seq 100); do dev=$(ls /sys/class/net | grep -v '^lo$' | head -n 1); [ -n "$dev" ] && break; sleep 0.1; done
echo "VNIC dev $dev features $(cat /sys/class/net/$dev/device/features)"
sysctl -qw net.core.rmem_max=16777216 net.ipv6.conf.all.disable_ipv6=1
ip link set lo up
ip addr add ${subnet}.2/24 dev $dev
ip link set $dev up
python3 $D/sink.py $D &
irqs() { awk '/virtio-uml/ { s += $2 } END { print s + 0 }' /proc/interrupts; }
waitfor() { for i in $(seq 600); do [ -e $D/$1 ] && return 0; sleep 0.1; done; echo "VNIC FAIL timeout waiting for $1"; poweroff -f; }
phase() {
  ping -c 1 -W 5 ${subnet}.1 > /dev/null
  a=$(irqs)
  touch $D/ready-$1
  waitfor done-$1
  b=$(irqs)
  echo "VNIC phase $1 irqs $((b - a))"
  echo "VNIC ping $1 $(ping -c 5 -i 0.3 -W 5 ${subnet}.1 | sed -n 's/.*time=\\([0-9.]*\\) ms.*/\\1/p' | tr '\\n' ' ')"
}
waitfor sink-up
phase off
ethtool -C $dev rx-frames ${RX_FRAMES} rx-usecs ${RX_USECS} tx-frames 1 2>&1
echo "VNIC ethtool-C rc $?"
echo "VNIC ethtool-c $(ethtool -c $dev | grep -E '^rx-(usecs|frames):' | tr -s ' \\n' ' ')"
phase on
echo "VNIC end"
poweroff -f
`;
}

/** The console's `VNIC ...` lines so far. */
function vnicLines(out: string): string[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('VNIC '))
    .map((l) => l.trim());
}

/** The ping RTTs (ms) the guest reported for `phase`. */
function rtts(out: string, phase: string): number[] {
  const line = vnicLines(out).find((l) => l.startsWith(`VNIC ping ${phase} `)) ?? '';
  return line
    .slice(`VNIC ping ${phase} `.length)
    .split(' ')
    .filter((s) => s !== '')
    .map(Number);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

describe.skipIf(missing !== undefined)('vhost-user device, whole-device mode: a real Linux guest driver (user-mode Linux) sets coalescing', () => {
  it('ethtool -C reaches vnic; per received frame the guest takes >= 4x fewer interrupts, loses nothing, and a ping waits at most rx-usecs more', async () => {
    const subnet = `10.${randomInt(100, 200)}.${randomInt(1, 250)}`;
    const sock = dirs.path('uml.sock');
    const ns = Netns.create('vnum');
    let server: VhostUserDeviceServer | undefined;
    let uml: ChildProcess | undefined;
    let out = '';
    const log: string[] = [];
    try {
      ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
      // user-mode Linux's memory is an unsealed file (it cannot be sealed): allowUnsealedMemory says the
      // peer is trusted not to shrink it.
      server = VhostUserDeviceServer.open({ socket: sock, tap: uniqueName('vum'), controlQueue: true, allowUnsealedMemory: true });
      ns.adopt(server.tapName);
      ns.ip('addr', 'add', `${subnet}.1/24`, 'dev', server.tapName);
      ns.ip('link', 'set', server.tapName, 'up');
      let features: bigint | undefined;
      server.events.on('negotiated', (n) => (features = n.features));
      server.events.on('warning', (w) => log.push(`warning ${w}`));
      server.events.on('disconnected', (r) => log.push(`disconnected ${r?.message ?? ''}`));
      server.start();

      const init = join(dirs.dir, 'init.sh');
      writeFileSync(init, guestInit(dirs.dir, subnet), { mode: 0o755 });
      uml = spawn(
        UML,
        ['mem=256M', 'root=/dev/root', 'rootfstype=hostfs', 'rootflags=/', 'rw', `init=${init}`, 'con=null', 'con0=fd:0,fd:1', `virtio_uml.device=${sock}:1`],
        { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: dirs.dir, env: { ...process.env, TMPDIR: dirs.dir } },
      );
      uml.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      uml.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => uml!.on('exit', (code) => resolve(code)));
      const failed = (): string | undefined => vnicLines(out).find((l) => l.startsWith('VNIC FAIL'));

      const sent: Record<string, number> = {};
      for (const phase of ['off', 'on'] as const) {
        const port = phase === 'off' ? 9001 : 9002;
        await waitUntil(
          () => existsSync(join(dirs.dir, `ready-${phase}`)) || failed() !== undefined || uml!.exitCode !== null,
          `guest ready for phase ${phase}`,
          90_000,
        );
        expect(failed(), out).toBeUndefined();
        const n = await nsUdpFlood(ns.name, `${subnet}.2`, port, RATE, STREAM_MS, 64).done;
        sent[phase] = n;
        const counted = (): number => {
          try {
            return Number(readFileSync(join(dirs.dir, `count-${port}`), 'utf8'));
          } catch {
            return 0;
          }
        };
        // Every datagram reaches the guest's socket (no loss), waited for, not slept on.
        await waitUntil(() => counted() >= n, `the guest's sink counting ${n} datagrams of phase ${phase}`, 30_000);
        expect(counted()).toBe(n);
        writeFileSync(join(dirs.dir, `done-${phase}`), '');
      }
      await waitUntil(() => vnicLines(out).includes('VNIC end') || failed() !== undefined || uml!.exitCode !== null, 'guest done', 90_000);
      await exited;
      const lines = vnicLines(out);
      console.log(`[uml guest] ${lines.join('\n')}\n${log.join('\n')}`);
      expect(failed(), out).toBeUndefined();

      // The guest driver negotiated the control queue and NOTF_COAL with vnic itself.
      expect(features! & featureBit(VIRTIO_NET_F_CTRL_VQ)).not.toBe(0n);
      expect(features! & featureBit(VIRTIO_NET_F_NOTF_COAL)).not.toBe(0n);
      // ethtool -C was accepted (the commands went over the control queue to vnic), and reads back.
      expect(lines).toContain('VNIC ethtool-C rc 0');
      const readBack = lines.find((l) => l.startsWith('VNIC ethtool-c')) ?? '';
      expect(readBack).toMatch(new RegExp(`rx-usecs: ${RX_USECS}\\b`));
      expect(readBack).toMatch(new RegExp(`rx-frames: ${RX_FRAMES}\\b`));

      const irqs = (phase: string): number =>
        Number(/^VNIC phase \S+ irqs (\d+)$/.exec(lines.find((l) => l.startsWith(`VNIC phase ${phase} `)) ?? '')?.[1] ?? NaN);
      const perFrameOff = irqs('off') / sent['off']!;
      const perFrameOn = irqs('on') / sent['on']!;
      console.log(
        `[uml guest] interrupts per frame: off ${perFrameOff.toFixed(3)}, on ${perFrameOn.toFixed(3)} (${(perFrameOff / perFrameOn).toFixed(1)}x fewer)`,
      );
      expect(perFrameOn * 4).toBeLessThanOrEqual(perFrameOff);

      // One frame alone (a ping's reply) is held at most rx-usecs: the timer flushes it, not the next frame.
      const off = rtts(out, 'off');
      const on = rtts(out, 'on');
      expect(off.length, out).toBe(5);
      expect(on.length, out).toBe(5);
      expect(median(on)).toBeLessThanOrEqual(RX_USECS / 1000 + median(off) + RTT_SLACK_MS);
    } finally {
      if (uml?.pid !== undefined && uml.exitCode === null) {
        try {
          process.kill(-uml.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await server?.close();
      ns.delete();
    }
  }, 240_000);
});
