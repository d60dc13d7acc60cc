import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DEBIAN_PACKAGES = ['dpdk-dev', 'librte-net-vhost23', 'librte-net-virtio23', 'librte-mempool-ring23'];

/**
 * Makes sure dpdk-testpmd is installed (apt-get install when missing and root). Returns undefined
 * when it is available, else the reason it is not.
 */
export function ensureTestpmd(): string | undefined {
  if (hasTestpmd()) return undefined;
  if (process.getuid?.() !== 0) return 'dpdk-testpmd is missing and installing it needs root';
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...DEBIAN_PACKAGES], {
      stdio: 'pipe',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 300_000,
    });
  } catch (err) {
    return `apt-get install ${DEBIAN_PACKAGES.join(' ')} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
  return hasTestpmd() ? undefined : 'dpdk-testpmd is still missing after apt-get install';
}

function hasTestpmd(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v dpdk-testpmd'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Options of one testpmd run. */
export interface TestpmdOptions {
  /** The vhost-user socket path. */
  readonly socket: string;
  /** Queue pairs of the port (queues=N). */
  readonly queues?: number;
  /** true: testpmd connects to a frontend that listens (client=1). */
  readonly client?: boolean;
  /** Forward mode (default macswap, loop topology: frames come back to the port they came from). */
  readonly forwardMode?: 'macswap' | 'io' | 'txonly';
  /**
   * testpmd as a vhost-user FRONTEND: `net_virtio_user0,path=<socket>` instead of a net_vhost
   * port (the backend under test serves the socket).
   */
  readonly virtioUser?: boolean;
  /** virtio_user only: testpmd listens on the socket (server=1) and the backend connects to it. */
  readonly server?: boolean;
  /** txonly: frame length in bytes (--txpkts). */
  readonly txPktLen?: number;
  /** Two vhost ports (net_vhost0 on `socket`, net_vhost1 on `socket2`), paired: frames cross between them. */
  readonly socket2?: string;
}

let seq = 0;

/**
 * DPDK testpmd as a vhost-user backend (PEERS.md): unique --file-prefix, no hugepages, no PCI,
 * one forwarding lcore. stop() sends SIGINT by pid, waits, removes /var/run/dpdk/<prefix>.
 */
export class Testpmd {
  readonly prefix: string;
  readonly proc: ChildProcess;
  output = '';
  #exited: Promise<number | null>;

  private constructor(prefix: string, proc: ChildProcess) {
    this.prefix = prefix;
    this.proc = proc;
    proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.#exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  /** Starts testpmd; when testpmd owns the socket (net_vhost client=0, virtio_user server=1) resolves once it exists. */
  static async start(options: TestpmdOptions): Promise<Testpmd> {
    const prefix = `vnicvu${process.pid}x${++seq}`;
    const vdev = (i: number, path: string): string[] => [
      '--vdev',
      options.virtioUser === true
        ? `net_virtio_user${i},path=${path},queues=${options.queues ?? 1}${options.server === true ? ',server=1' : ''}`
        : `net_vhost${i},iface=${path},queues=${options.queues ?? 1},client=${options.client === true ? 1 : 0}`,
    ];
    const args = [
      '-l', '0-1', '-n', '1', '--no-huge', '-m', '64', '--no-pci', '--no-shconf', `--file-prefix=${prefix}`, '--log-level=lib.eal:error',
      ...vdev(0, options.socket),
      ...(options.socket2 === undefined ? [] : vdev(1, options.socket2)),
      '--',
      `--forward-mode=${options.forwardMode ?? 'macswap'}`,
      `--port-topology=${options.socket2 === undefined ? 'loop' : 'paired'}`,
      '--nb-cores=1',
      `--rxq=${options.queues ?? 1}`,
      `--txq=${options.queues ?? 1}`,
      '--total-num-mbufs=4096',
      ...(options.txPktLen === undefined ? [] : [`--txpkts=${options.txPktLen}`]),
      // Without a stats period testpmd waits for Enter on stdin; with one it forwards until SIGINT.
      '--stats-period=60',
    ];
    const proc = spawn('dpdk-testpmd', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const t = new Testpmd(prefix, proc);
    // The socket appears when testpmd serves it: a net_vhost port with client=0, a virtio_user port with server=1.
    if (options.virtioUser === true ? options.server === true : options.client !== true) {
      const deadline = Date.now() + 10_000;
      const paths = [options.socket, ...(options.socket2 === undefined ? [] : [options.socket2])];
      while (!paths.every((p) => existsSync(p))) {
        if (proc.exitCode !== null) throw new Error(`dpdk-testpmd exited (${proc.exitCode}) before creating its socket:\n${t.output}`);
        if (Date.now() > deadline) {
          await t.stop();
          throw new Error(`dpdk-testpmd did not create ${paths.join(', ')} within 10 s:\n${t.output}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return t;
  }

  /** Resolves once testpmd printed `text` (at most `timeoutMs`). */
  async waitFor(text: string | RegExp, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const seen = (): boolean => (typeof text === 'string' ? this.output.includes(text) : text.test(this.output));
    while (!seen()) {
      if (Date.now() > deadline) throw new Error(`dpdk-testpmd did not print ${String(text)} within ${timeoutMs} ms:\n${this.output}`);
      if (this.proc.exitCode !== null) throw new Error(`dpdk-testpmd exited (${this.proc.exitCode}):\n${this.output}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Resolves once the forwarding lcore runs (printed after the ports came up). */
  waitForwarding(): Promise<void> {
    return this.waitFor('start packet forwarding');
  }

  /** SIGINT by pid, SIGKILL after 5 s, then removes the EAL runtime dir. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGINT');
      const killer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(killer);
    }
    rmSync(`/var/run/dpdk/${this.prefix}`, { recursive: true, force: true });
  }

  /** SIGKILL: the backend dies without cleaning up (its socket file stays). */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await this.#exited;
    }
    rmSync(`/var/run/dpdk/${this.prefix}`, { recursive: true, force: true });
  }
}

/** A private temp dir for sockets; remove() deletes it. */
export function socketDir(): { readonly dir: string; path(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vnic-vu-'));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Skip-or-fail policy for a missing peer: fails loudly under CI, skips with a printed reason otherwise. */
export function peerMissing(reason: string | undefined): boolean {
  if (reason === undefined) return false;
  if (process.env['CI'] !== undefined && process.env['CI'] !== '') throw new Error(`vhost-user peer tests need dpdk-testpmd: ${reason}`);
  console.warn(`[vhost-user peers] skipped: ${reason}`);
  return true;
}
