import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCommand } from '@vnic/cli';

const VSWITCHD = '/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk';
const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
let seq = 0;

/** Runs an OVS tool with the private instance's environment; rejects with its stderr. */
function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * A private OVS-DPDK instance as a vhost-user peer (PEERS.md): its own run/db/log/etc dirs under
 * one temp dir, its own ovsdb-server, ovs-vswitchd-dpdk in a fresh network namespace (`unshare -n`,
 * so its bridge port never shows up on the host), DPDK without hugepages (`--no-huge --legacy-mem`,
 * unique --file-prefix), `per-port-memory=true` (else a vhost port connects but is never polled),
 * one bridge with `datapath_type=netdev`. stop() ends both daemons by pid and removes every dir.
 */
export class OvsDpdk {
  /** The Debian package with ovs-vswitchd-dpdk. */
  static readonly DEBIAN_PACKAGES: readonly string[] = ['openvswitch-switch-dpdk'];
  /** The bridge every port is added to. */
  readonly bridge = 'br0';
  /** The instance's root dir (run/, db/, log/, etc/ under it); dpdkvhostuser sockets are in run/. */
  readonly dir: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #prefix: string;
  readonly #db: ChildProcess;
  #vswitchd: ChildProcess | undefined;
  #output = '';

  private constructor(dir: string, env: NodeJS.ProcessEnv, prefix: string, db: ChildProcess) {
    this.dir = dir;
    this.#env = env;
    this.#prefix = prefix;
    this.#db = db;
  }

  /** Makes sure ovs-vswitchd-dpdk is installed (apt-get when root). Undefined when it is, else why not. */
  static ensure(): string | undefined {
    return ensureCommand(VSWITCHD, OvsDpdk.DEBIAN_PACKAGES) ?? ensureCommand('ovsdb-tool', OvsDpdk.DEBIAN_PACKAGES);
  }

  /** Starts ovsdb-server and ovs-vswitchd-dpdk and creates the bridge. */
  static async start(): Promise<OvsDpdk> {
    const dir = mkdtempSync(join(tmpdir(), 'vnic-ovs-'));
    for (const d of ['run', 'db', 'log', 'etc']) mkdirSync(join(dir, d));
    const env = {
      ...process.env,
      OVS_RUNDIR: join(dir, 'run'),
      OVS_DBDIR: join(dir, 'db'),
      OVS_LOGDIR: join(dir, 'log'),
      OVS_SYSCONFDIR: join(dir, 'etc'),
    };
    const prefix = `vnicovs${process.pid}x${++seq}`;
    let ovs: OvsDpdk | undefined;
    try {
      const db = join(dir, 'db', 'conf.db');
      await run('ovsdb-tool', ['create', db, SCHEMA], env);
      const server = spawn(
        'ovsdb-server',
        [
          db,
          `--remote=punix:${join(dir, 'run', 'db.sock')}`,
          `--unixctl=${join(dir, 'run', 'ovsdb-server.ctl')}`,
          `--log-file=${join(dir, 'log', 'ovsdb-server.log')}`,
        ],
        { env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      ovs = new OvsDpdk(dir, env, prefix, server);
      server.stdout?.on('data', (d: Buffer) => (ovs!.#output += d.toString()));
      server.stderr?.on('data', (d: Buffer) => (ovs!.#output += d.toString()));
      await ovs.#waitFile(join(dir, 'run', 'db.sock'), server, 'ovsdb-server');
      await ovs.vsctl(
        '--no-wait',
        'init',
        '--',
        'set',
        'Open_vSwitch',
        '.',
        'other_config:dpdk-init=true',
        `other_config:dpdk-extra=--no-huge --legacy-mem -m 256 --no-pci --file-prefix=${prefix} --no-shconf`,
        'other_config:per-port-memory=true',
      );
      // unshare execs the daemon in place: the pid we hold is ovs-vswitchd's own.
      const vswitchd = spawn(
        'unshare',
        [
          '-n',
          VSWITCHD,
          `unix:${join(dir, 'run', 'db.sock')}`,
          `--unixctl=${join(dir, 'run', 'ovs-vswitchd.ctl')}`,
          `--log-file=${join(dir, 'log', 'ovs-vswitchd.log')}`,
        ],
        { env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      ovs.#vswitchd = vswitchd;
      vswitchd.stdout?.on('data', (d: Buffer) => (ovs!.#output += d.toString()));
      vswitchd.stderr?.on('data', (d: Buffer) => (ovs!.#output += d.toString()));
      await ovs.vsctl('add-br', ovs.bridge, '--', 'set', 'bridge', ovs.bridge, 'datapath_type=netdev');
      return ovs;
    } catch (err) {
      if (ovs !== undefined) await ovs.stop();
      else rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** ovs-vsctl against this instance (waits for ovs-vswitchd to apply the change). */
  vsctl(...args: string[]): Promise<string> {
    return run('ovs-vsctl', [`--db=unix:${join(this.dir, 'run', 'db.sock')}`, '--timeout=30', ...args], this.#env);
  }

  /** ovs-ofctl against this instance's bridge. */
  ofctl(...args: string[]): Promise<string> {
    return run('ovs-ofctl', args, this.#env);
  }

  /** Adds a `dpdkvhostuser` port (OVS is the socket server); resolves with its socket path once it exists. */
  async addVhostUserPort(name: string): Promise<string> {
    await this.vsctl('add-port', this.bridge, name, '--', 'set', 'Interface', name, 'type=dpdkvhostuser');
    const path = join(this.dir, 'run', name);
    await this.#waitFile(path, this.#vswitchd!, 'ovs-vswitchd');
    return path;
  }

  /** Adds a `dpdkvhostuserclient` port: OVS connects to `serverPath`, where the frontend listens. */
  async addVhostUserClientPort(name: string, serverPath: string): Promise<void> {
    await this.vsctl('add-port', this.bridge, name, '--', 'set', 'Interface', name, 'type=dpdkvhostuserclient', `options:vhost-server-path=${serverPath}`);
  }

  /** A reflector flow: every frame entering `port` goes back out of it with src/dst MACs set. */
  async reflect(port: string, src: Uint8Array, dst: Uint8Array): Promise<void> {
    await this.ofctl('add-flow', this.bridge, `in_port=${port},actions=mod_dl_src:${mac(src)},mod_dl_dst:${mac(dst)},in_port`);
  }

  /** The OpenFlow packet count of the flows matching in_port=`port`. */
  async flowPackets(port: string): Promise<number> {
    const out = await this.ofctl('dump-flows', this.bridge, `in_port=${port}`);
    return [...out.matchAll(/n_packets=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  }

  /** ovs-vswitchd's log so far (DPDK's VHOST_CONFIG lines included) plus the daemons' console output. */
  get output(): string {
    const log = join(this.dir, 'log', 'ovs-vswitchd.log');
    return (existsSync(log) ? readFileSync(log, 'utf8') : '') + this.#output;
  }

  /** Resolves once the log says DPDK started the rings of the vhost-user socket `path` (`count` times so far). */
  async waitReady(path: string, count = 1, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.output.split(`(${path}) virtio is now ready for processing`).length - 1 < count) {
      if (Date.now() > deadline) throw new Error(`OVS never started the rings of ${path} within ${timeoutMs} ms:\n${this.output.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops ovs-vswitchd (SIGTERM, SIGKILL after 10 s), then ovsdb-server, by pid; removes every dir. Idempotent. */
  async stop(): Promise<void> {
    if (this.#vswitchd !== undefined) await stopProcess(this.#vswitchd, 10_000);
    await stopProcess(this.#db, 5000);
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(`/var/run/dpdk/${this.#prefix}`, { recursive: true, force: true });
  }

  async #waitFile(path: string, proc: ChildProcess, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!existsSync(path)) {
      if (proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode}) before creating ${path}:\n${this.output.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`${what} did not create ${path} within 20 s:\n${this.output.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

function mac(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

async function stopProcess(proc: ChildProcess, graceMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const killer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(killer);
}
