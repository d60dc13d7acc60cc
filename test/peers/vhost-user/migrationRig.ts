import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { buildCpioNewc, qemuBootArgs, type TestVmImage } from '@vnic/testvm';
import { vhostUserNicArgs } from './tcpCheckServer.ts';

// Helpers of the live-migration test (migrate.qemu.vhost-user.test.ts): a guest that needs no 9p
// share (QEMU blocks migration while a virtio-9p export is mounted), QEMU processes with an HMP
// monitor, and the peer programs that run in the namespace.

/**
 * The test-VM initramfs (busybox + modules, @vnic/testvm) with a second cpio archive appended whose
 * /init replaces the 9p one: it loads the modules, brings the NIC up at `guestIp`/24 and runs an
 * echo server (busybox nc -ll -e cat) on port 5002 forever. The kernel unpacks both archives in
 * order, so the later /init wins. Written to `path`.
 */
export function writeMigrationInitramfs(image: TestVmImage, guestIp: string, path: string): void {
  const init = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod "/lib/modules/$m.ko" 2>/dev/null; done < /modules.list
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
ip link set lo up
dev=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
ip link set "$dev" up
ip addr add ${guestIp}/24 dev "$dev"
echo "migrate-guest: $dev up at ${guestIp}, features $(cat /sys/class/net/$dev/device/features 2>/dev/null)"
nc -ll -p 5002 -e /bin/cat &
echo "migrate-guest: echo server on 5002"
while :; do sleep 3600; done
`;
  const overlay = buildCpioNewc([{ type: 'file', path: 'init', data: Buffer.from(init), mode: 0o755 }]);
  writeFileSync(path, Buffer.concat([readFileSync(image.initramfs), overlay]));
}

/** What one of the two QEMU processes needs. */
export interface MigrationQemuOptions {
  readonly image: TestVmImage;
  readonly initramfs: string;
  readonly memoryMiB: number;
  /** vhost-user socket QEMU listens on (chardev server=on; `vnic serve --client` connects). */
  readonly socket: string;
  /** HMP monitor socket. */
  readonly monitor: string;
  readonly mac: string;
  /** `tcp:127.0.0.1:<port>` for the destination. */
  readonly incoming?: string;
}

/** A QEMU process of the test: its console output so far, its exit. */
export interface MigrationQemu {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/**
 * Starts qemu-system-x86_64 (the test VM's machine with 1 vCPU and memfd RAM shared with the
 * backend, the vhost-user NIC with vectors=0 as PEERS.md requires, HMP on a unix socket), under
 * timeout(1) as a safety net.
 */
export function startMigrationQemu(o: MigrationQemuOptions, safetySeconds: number): MigrationQemu {
  const args = [
    ...qemuBootArgs({ image: o.image, initramfs: o.initramfs, memoryMiB: o.memoryMiB, cpus: 1, sharedMemory: true, kernelArgs: [] }),
    ...vhostUserNicArgs(o.socket, { listen: true, mac: o.mac }),
    '-monitor',
    `unix:${o.monitor},server=on,wait=off`,
    ...(o.incoming === undefined ? [] : ['-incoming', o.incoming]),
  ];
  const child = spawn('timeout', ['--foreground', '--kill-after=3', String(safetySeconds), 'qemu-system-x86_64', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString().replace(/\r/g, '')));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { child, output: () => out, exited };
}

/** Terminal escape sequences HMP's readline echoes (ESC [ ... letter). */
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');

/** A QEMU human monitor (HMP) over its unix socket: one command at a time, answered up to the next `(qemu) ` prompt. */
export class Hmp {
  private readonly sock: Socket;
  private buf = '';
  private waiter: (() => void) | undefined;

  private constructor(sock: Socket) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => {
      this.buf += d.toString();
      this.waiter?.();
    });
  }

  /** Connects (retrying while QEMU has not created the socket yet) and reads the greeting. */
  static async connect(path: string, timeoutMs: number): Promise<Hmp> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<Socket>((resolve, reject) => {
          const s = createConnection(path, () => resolve(s));
          s.once('error', reject);
        });
        const h = new Hmp(sock);
        await h.prompt(timeoutMs);
        return h;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private async prompt(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.buf.indexOf('(qemu) ');
      if (i >= 0) {
        const text = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 7);
        return text;
      }
      if (Date.now() > deadline) throw new Error(`HMP: no prompt within ${timeoutMs} ms (got ${JSON.stringify(this.buf.slice(-500))})`);
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 100);
      });
    }
  }

  /** Runs one HMP command; resolves with its output (the echoed command line left out). */
  async cmd(line: string, timeoutMs = 30_000): Promise<string> {
    this.sock.write(`${line}\n`);
    const text = (await this.prompt(timeoutMs)).replace(/\r/g, '').replace(ANSI_ESCAPE, '');
    const lines = text.split('\n');
    return lines.slice(lines[0]?.includes(line.split(' ')[0]!) === true ? 1 : 0).join('\n');
  }

  close(): void {
    this.sock.destroy();
  }
}

/**
 * A python3 peer for the namespace: `echo <addr> <port> <rate_bytes_per_s>` connects to the
 * guest's echo server (retrying until it answers), sends seeded pseudo-random bytes at about the
 * given rate in one thread and checks every echoed byte against the same stream in the other,
 * printing `echoed <n>` about every 64 KiB; any difference prints `MISMATCH at <offset>` and exits 1.
 * `garp <ifname> <mac>` watches an interface (AF_PACKET) and prints `garp <sender-ip>` for every
 * gratuitous ARP (sender IP = target IP) from that MAC.
 */
export const MIGRATION_PEER_SCRIPT = `
import random, socket, struct, sys, threading, time
mode = sys.argv[1]
if mode == 'garp':
    ifname, mac = sys.argv[2], bytes.fromhex(sys.argv[3].replace(':', ''))
    # ETH_P_ALL: a bridge port hands its frames to the bridge before protocol-specific sockets see them
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((ifname, 0))
    print('watching', flush=True)
    while True:
        f = s.recv(2048)
        if len(f) < 42 or f[6:12] != mac or f[12:14] != b'\x08\x06':
            continue
        sip, tip = f[28:32], f[38:42]
        if sip == tip:
            print('garp ' + socket.inet_ntoa(sip), flush=True)
addr, port, rate = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
deadline = time.time() + 120
while True:
    try:
        c = socket.create_connection((addr, port), timeout=5)
        break
    except OSError:
        if time.time() > deadline:
            print('no echo server', flush=True)
            sys.exit(2)
        time.sleep(0.3)
c.settimeout(None)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print('connected', flush=True)
CHUNK = 4096
def chunk(i):
    return random.Random(i).randbytes(CHUNK)
def sender():
    i = 0
    t0 = time.time()
    while True:
        c.sendall(chunk(i))
        i += 1
        ahead = i * CHUNK / rate - (time.time() - t0)
        if ahead > 0:
            time.sleep(ahead)
threading.Thread(target=sender, daemon=True).start()
got = 0
want = b''
idx = 0
last = 0
while True:
    b = c.recv(65536)
    if not b:
        print(f'closed after {got} bytes', flush=True)
        sys.exit(1)
    while len(want) < len(b):
        want += chunk(idx)
        idx += 1
    if b != want[:len(b)]:
        k = next(j for j in range(len(b)) if b[j] != want[j])
        print(f'MISMATCH at {got + k}', flush=True)
        sys.exit(1)
    want = want[len(b):]
    got += len(b)
    if got - last >= 65536:
        last = got
        print(f'echoed {got}', flush=True)
`;
