import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { CommandResult } from './CommandResult.ts';
import type { LinkCounters } from './LinkCounters.ts';
import { runCommand } from './runCommand.ts';
import { uniqueName } from './uniqueName.ts';

/**
 * A network namespace made with `ip netns add`, for tests and the demo: move links into it,
 * address them, bring them up, run commands inside it, delete it. Every failure is a CliError
 * with the command line, its stderr and a hint.
 */
export class Netns {
  /** The namespace's name (`ip netns list`). */
  readonly name: string;
  private deleted = false;

  private constructor(name: string) {
    this.name = name;
  }

  /** Creates a namespace named `prefix` + random hex (default prefix `vnicns`) and brings its `lo` up. */
  static async create(prefix = 'vnicns'): Promise<Netns> {
    const ns = new Netns(uniqueName(prefix));
    await runCommand('ip', ['netns', 'add', ns.name]);
    try {
      await ns.ip('link', 'set', 'lo', 'up');
    } catch (err) {
      await ns.delete().catch(() => {});
      throw err;
    }
    return ns;
  }

  /** True once delete() ran. */
  get isDeleted(): boolean {
    return this.deleted;
  }

  /** `ip -n <ns> <args...>`; resolves with its stdout. */
  async ip(...args: string[]): Promise<string> {
    return (await runCommand('ip', ['-n', this.name, ...args])).stdout;
  }

  /** Moves host interface `ifname` into the namespace (`ip link set <if> netns <ns>`); it goes down on the move. */
  async moveLink(ifname: string): Promise<void> {
    await runCommand('ip', ['link', 'set', ifname, 'netns', this.name]);
  }

  /** Adds `cidr` (e.g. `10.201.3.1/24`) to `ifname` inside the namespace. */
  async addAddress(ifname: string, cidr: string): Promise<void> {
    await this.ip('addr', 'add', cidr, 'dev', ifname);
  }

  /** Brings `ifname` up inside the namespace. */
  async setUp(ifname: string): Promise<void> {
    await this.ip('link', 'set', ifname, 'up');
  }

  /** The MAC address of `ifname` inside the namespace (`ip -j link show`). */
  async linkMac(ifname: string): Promise<string> {
    const [link] = JSON.parse(await this.ip('-j', 'link', 'show', 'dev', ifname)) as { address?: string }[];
    return link?.address ?? '';
  }

  /**
   * Packet counters of `ifname` inside the namespace (`ip -s -j link show`). For a tap, `tx` is
   * towards the device behind its fd and `tx.dropped` counts frames its full queue turned away.
   */
  async linkStats(ifname: string): Promise<{ readonly rx: LinkCounters; readonly tx: LinkCounters }> {
    const [link] = JSON.parse(await this.ip('-s', '-j', 'link', 'show', 'dev', ifname)) as {
      stats64?: { rx?: Partial<LinkCounters>; tx?: Partial<LinkCounters> };
    }[];
    const pick = (c: Partial<LinkCounters> | undefined): LinkCounters => ({ packets: c?.packets ?? 0, bytes: c?.bytes ?? 0, dropped: c?.dropped ?? 0 });
    return { rx: pick(link?.stats64?.rx), tx: pick(link?.stats64?.tx) };
  }

  /** Runs `command args...` inside the namespace (`ip netns exec`) and resolves with its output. */
  exec(
    command: string,
    args: readonly string[] = [],
    options: { readonly timeoutMs?: number; readonly input?: string; readonly allowFailure?: boolean } = {},
  ): Promise<CommandResult> {
    return runCommand('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  /** Starts `command args...` inside the namespace and returns the child; the caller ends it. */
  spawn(command: string, args: readonly string[] = []): ChildProcessWithoutNullStreams {
    return spawn('ip', ['netns', 'exec', this.name, command, ...args], { stdio: 'pipe' });
  }

  /** `ip netns del`: virtual links inside go with it. Idempotent. */
  async delete(): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    await runCommand('ip', ['netns', 'del', this.name]);
  }
}
