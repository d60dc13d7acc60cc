import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { uniqueName } from './uniqueName.ts';

/** A throw-away network namespace for tests (`ip netns add`); delete() removes it (idempotent). */
export class Netns {
  readonly name: string;
  private deleted = false;

  private constructor(name: string) {
    this.name = name;
  }

  /** `ip netns add <prefix><hex>`. */
  static create(prefix = 'vnsys'): Netns {
    const ns = new Netns(uniqueName(prefix));
    execFileSync('ip', ['netns', 'add', ns.name], { stdio: 'pipe' });
    return ns;
  }

  /** `ip -n <ns> <args>`; returns stdout. */
  ip(...args: string[]): string {
    return execFileSync('ip', ['-n', this.name, ...args], { stdio: 'pipe' }).toString();
  }

  /** Runs a command inside the namespace and returns stdout. */
  exec(command: string, ...args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.name, command, ...args], { stdio: 'pipe' }).toString();
  }

  /** Starts a command inside the namespace; the caller kills it. */
  spawn(command: string, ...args: string[]): ChildProcessWithoutNullStreams {
    return spawn('ip', ['netns', 'exec', this.name, command, ...args], { stdio: 'pipe' });
  }

  /** Moves a host interface into the namespace. */
  adopt(ifname: string): void {
    execFileSync('ip', ['link', 'set', ifname, 'netns', this.name], { stdio: 'pipe' });
  }

  /** `ip netns del` (interfaces inside are destroyed or returned by the kernel). */
  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    execFileSync('ip', ['netns', 'del', this.name], { stdio: 'pipe' });
  }
}
