// A real Linux guest on vnic: `pnpm vnic serve` is the vhost-user backend of the guest's
// virtio-net-pci NIC, QEMU (TCG) boots the Debian kernel (@vnic/testvm builds the busybox
// initramfs), the tap sits in a network namespace with an address, and the guest configures its
// NIC and pings it. Run as root: `pnpm --filter @vnic/example-qemu-guest start [-- --queue-pairs 2]`.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInVm } from '@vnic/testvm';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pairs = Number(process.argv[process.argv.indexOf('--queue-pairs') + 1] ?? 1) || 1;
const id = randomBytes(3).toString('hex');
const ns = `vnicqg${id}`;
const tap = `vnicqg${id}`;
const dir = mkdtempSync(join(tmpdir(), 'vnic-qemu-guest-'));
const sock = join(dir, 'vnic.sock');
const say = (line: string): void => console.log(`\x1b[1m[example]\x1b[0m ${line}`);
const ip = (...args: string[]): string => execFileSync('ip', args, { stdio: 'pipe' }).toString();

// 1. vnic serves the NIC: it creates the tap and listens on the socket.
const serve = spawn('pnpm', ['--silent', 'vnic', 'serve', '--socket', sock, '--tap', tap, '--queue-pairs', String(pairs)], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  detached: true, // its own process group, stopped below as Ctrl-C stops a terminal's foreground job
});
let served = '';
serve.stdout.on('data', (d: Buffer) => {
  served += d.toString();
  process.stdout.write(d);
});
const stopServe = async (): Promise<void> => {
  if (serve.exitCode !== null) return;
  const exited = new Promise((r) => serve.once('exit', r));
  // Ctrl-C to the whole group (pnpm, tsx, node) as a terminal would: vnic serve drops the
  // frontend, removes the socket and closes the tap.
  process.kill(-serve.pid!, 'SIGINT');
  await exited;
};

try {
  while (!served.includes('listening on')) {
    if (serve.exitCode !== null) throw new Error('vnic serve exited before listening');
    await new Promise((r) => setTimeout(r, 50));
  }
  // 2. The host side of the wire: the tap in its own namespace, 10.99.0.1/24.
  ip('netns', 'add', ns);
  ip('link', 'set', tap, 'netns', ns);
  ip('-n', ns, 'addr', 'add', '10.99.0.1/24', 'dev', tap);
  ip('-n', ns, 'link', 'set', tap, 'up');
  say(`tap ${tap} is 10.99.0.1/24 in namespace ${ns}; booting the guest (QEMU TCG: ~15 s)`);

  // 3. The guest: q35 with its RAM in a shared memfd (vhost-user maps it), virtio-net-pci on the
  //    vhost-user netdev. vectors=0: QEMU 7.2 under TCG crashes when the driver enables MSI-X here.
  const run = await runInVm({
    machine: 'q35',
    sharedMemory: true,
    memoryMiB: 512,
    cpus: Math.max(2, pairs),
    timeoutMs: 300_000,
    command: [
      '/bin/sh',
      '-c',
      'dev=$(ls /sys/class/net | grep -v "^lo$" | head -n 1); ip link set "$dev" up; ip addr add 10.99.0.2/24 dev "$dev"; ' +
        'echo "guest: $(uname -r), NIC $dev, driver $(basename $(readlink /sys/class/net/$dev/device/driver)), queues: $(ls /sys/class/net/$dev/queues | tr "\\n" " ")"; ' +
        'ping -c 5 -W 5 10.99.0.1; ip -s link show "$dev"',
    ],
    qemuArgs: [
      '-chardev',
      `socket,id=vu0,path=${sock}`,
      '-netdev',
      `vhost-user,id=n0,chardev=vu0${pairs > 1 ? `,queues=${pairs}` : ''}`,
      '-device',
      `virtio-net-pci,netdev=n0,mac=52:54:00:99:00:02,vectors=0${pairs > 1 ? ',mq=on' : ''}`,
    ],
    onProgress: (p) => say(p),
    onOutput: (chunk) => process.stdout.write(chunk),
  });
  say(`guest exited with ${run.exitCode} (boot ${(run.bootMs / 1000).toFixed(1)} s)`);
  process.exitCode = run.exitCode;
} catch (e) {
  console.error(`[example] ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  await stopServe();
  try {
    ip('netns', 'del', ns);
  } catch {
    // never created
  }
  rmSync(dir, { recursive: true, force: true });
  say('cleaned up: vnic serve stopped, namespace deleted');
}
