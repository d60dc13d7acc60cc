import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { CliError } from '../CliError.ts';
import { ensureCommand } from './ensureCommand.ts';
import type { TestpmdOptions } from './TestpmdOptions.ts';
import { errorMessage } from '@vnic/core';

let seq = 0;

/**
 * DPDK testpmd as a vhost-user peer (the tests' backend, the benches' backend and reference
 * frontend), run the way that works without hugepages (PEERS.md): unique --file-prefix,
 * --no-huge, --no-pci, --no-shconf, one busy-polling forwarding lcore. stop() sends SIGINT by pid,
 * waits, and removes /var/run/dpdk/<prefix>; nothing else is touched.
 */
export class Testpmd {
  /** The Debian packages that provide dpdk-testpmd and its vhost, virtio_user and tap PMDs. */
  static readonly DEBIAN_PACKAGES: readonly string[] = ['dpdk-dev', 'librte-net-vhost23', 'librte-net-virtio23', 'librte-net-tap23', 'librte-mempool-ring23'];

  /** The EAL --file-prefix (unique per run). */
  readonly prefix: string;
  /** The testpmd process. */
  readonly proc: ChildProcess;
  /** Everything testpmd printed so far (stdout and stderr). */
  output = '';
  readonly #exited: Promise<number | null>;

  private constructor(prefix: string, proc: ChildProcess) {
    this.prefix = prefix;
    this.proc = proc;
    proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.#exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  /** Makes sure dpdk-testpmd is installed (apt-get when root). Undefined when it is, else why not. */
  static ensure(): string | undefined {
    return ensureCommand('dpdk-testpmd', Testpmd.DEBIAN_PACKAGES);
  }

  /** Starts testpmd; when it is the listening side, resolves once its socket(s) exist. */
  static async start(options: TestpmdOptions): Promise<Testpmd> {
    const prefix = `vnicvu${process.pid}x${++seq}`;
    const queues = options.queues ?? 1;
    const virtioUser = options.role === 'virtio-user';
    const vdev = (i: number, path: string): string[] =>
      [
        '--vdev',
        virtioUser
          ? `net_virtio_user${i},path=${path},queues=${queues}${options.client === false ? ',server=1' : ''}`
          : `net_vhost${i},iface=${path},queues=${queues},client=${options.client === true ? 1 : 0}`,
      ].map((a, k) => (k === 1 && options.devArgs !== undefined ? `${a},${options.devArgs}` : a));
    const cpu = options.forwardingCpu;
    const lcores = cpu === undefined ? ['-l', '0-1'] : [`--lcores=0@${cpu === 0 ? 1 : 0},1@${cpu}`];
    const args = [
      ...lcores,
      '-n',
      '1',
      '--no-huge',
      '-m',
      '64',
      '--no-pci',
      '--no-shconf',
      `--file-prefix=${prefix}`,
      '--log-level=lib.eal:error',
      ...vdev(0, options.socket),
      ...(options.socket2 === undefined ? [] : vdev(1, options.socket2)),
      ...(options.tap2 === undefined ? [] : ['--vdev', `net_tap1,iface=${options.tap2}`]),
      '--',
      `--forward-mode=${options.forwardMode ?? 'macswap'}`,
      `--port-topology=${options.socket2 === undefined && options.tap2 === undefined ? 'loop' : 'paired'}`,
      '--nb-cores=1',
      `--rxq=${queues}`,
      `--txq=${queues}`,
      '--total-num-mbufs=4096',
      ...(options.txFirst === true ? ['--tx-first'] : []),
      ...(options.txPktLen === undefined ? [] : [`--txpkts=${options.txPktLen}`]),
      // Without a stats period testpmd waits for Enter on stdin; with one it forwards until SIGINT.
      `--stats-period=${options.statsPeriod ?? 60}`,
    ];
    let proc: ChildProcess;
    try {
      // stdbuf: line-buffered output, so each log line arrives when it is printed (stdbuf execs
      // testpmd in place: the pid stays testpmd's).
      // stdbuf: line-buffered output, so each log line arrives when it is printed (stdbuf execs
      // testpmd in place: the pid stays testpmd's).
      proc = spawn('stdbuf', ['-oL', '-eL', 'dpdk-testpmd', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      throw new CliError('unavailable', `dpdk-testpmd: cannot start: ${errorMessage(err)} (install ${Testpmd.DEBIAN_PACKAGES.join(' ')})`, { cause: err });
    }
    const t = new Testpmd(prefix, proc);
    proc.once('error', (err) => (t.output += `\n[spawn error] ${err.message}\n`));
    const listens = virtioUser ? options.client === false : options.client !== true;
    if (listens) {
      const deadline = Date.now() + 10_000;
      const paths = [options.socket, ...(options.socket2 === undefined ? [] : [options.socket2])];
      while (!paths.every((p) => existsSync(p))) {
        if (proc.exitCode !== null) {
          await t.stop();
          throw new CliError('command-failed', `dpdk-testpmd exited (${proc.exitCode}) before creating its socket:\n${t.output}`);
        }
        if (Date.now() > deadline) {
          await t.stop();
          throw new CliError('timeout', `dpdk-testpmd did not create ${paths.join(', ')} within 10 s:\n${t.output}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    return t;
  }

  /** Resolves once testpmd printed `text` (at most `timeoutMs`). */
  async waitFor(text: string | RegExp, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const seen = (): boolean => (typeof text === 'string' ? this.output.includes(text) : text.test(this.output));
    while (!seen()) {
      if (Date.now() > deadline)
        throw new CliError('timeout', `dpdk-testpmd did not print ${String(text)} within ${timeoutMs} ms:\n${this.output.slice(-4000)}`);
      if (this.proc.exitCode !== null) throw new CliError('command-failed', `dpdk-testpmd exited (${this.proc.exitCode}):\n${this.output.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Resolves once the forwarding lcore runs (printed after the ports came up). */
  waitForwarding(): Promise<void> {
    return this.waitFor('start packet forwarding');
  }

  /** How many times DPDK said the rings of the vhost-user socket `path` are ready (once per activation). */
  readyCount(path: string): number {
    return this.output.split(`(${path}) virtio is now ready for processing`).length - 1;
  }

  /**
   * Resolves once DPDK started the rings of `path` for the `count`-th time. DPDK acks the last
   * activation message before its vhost PMD queues to the port: frames sent towards the frontend
   * before that are dropped, as a physical NIC drops frames before its link is up.
   */
  async waitReady(path: string, count = 1, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.readyCount(path) < count) {
      if (Date.now() > deadline)
        throw new CliError('timeout', `dpdk-testpmd never started the rings of ${path} within ${timeoutMs} ms:\n${this.output.slice(-3000)}`);
      if (this.proc.exitCode !== null) throw new CliError('command-failed', `dpdk-testpmd exited (${this.proc.exitCode}):\n${this.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** The Rx-pps values of `port` printed so far (one per stats period), oldest first. */
  rxPps(port = 0): number[] {
    const out: number[] = [];
    const blocks = this.output.split(/#+ NIC statistics for port /).slice(1);
    for (const b of blocks) {
      if (!b.startsWith(`${port} `)) continue;
      const m = /Rx-pps:\s+(\d+)/.exec(b);
      if (m !== null) out.push(Number(m[1]));
    }
    return out;
  }

  /** SIGINT by pid, SIGKILL after 5 s, then removes the EAL runtime dir. Idempotent. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null && this.proc.pid !== undefined) {
      this.proc.kill('SIGINT');
      const killer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(killer);
    }
    rmSync(`/var/run/dpdk/${this.prefix}`, { recursive: true, force: true });
  }

  /** SIGKILL: the backend dies without cleaning up (its socket file stays). */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null && this.proc.pid !== undefined) {
      this.proc.kill('SIGKILL');
      await this.#exited;
    }
    rmSync(`/var/run/dpdk/${this.prefix}`, { recursive: true, force: true });
  }
}
