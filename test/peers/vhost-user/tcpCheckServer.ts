import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomInt } from 'node:crypto';
import type { Netns } from '@vnic/sys/testing';
import { runInVm, type RunInVmResult } from '@vnic/testvm';
import { TCP_CHECK_SCRIPT } from './tcpCheckScript.ts';

/** The namespace side of a checked TCP exchange (TCP_CHECK_SCRIPT `server`), listening. */
export interface TcpCheckServer {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything it printed so far (stdout and stderr). */
  readonly output: () => string;
  /** Its exit code: 0 only when it received `bytes` with the right sha256 and sent its own. */
  readonly exited: Promise<number | null>;
}

/**
 * Starts TCP_CHECK_SCRIPT's server in `ns` on `addr:port` for `bytes` each way and resolves once it
 * listens; throws with its output if it exits or does not listen within 10 s.
 */
export async function startTcpCheckServer(ns: Netns, addr: string, port: number, bytes: number): Promise<TcpCheckServer> {
  const child = ns.spawn('python3', '-c', TCP_CHECK_SCRIPT, 'server', addr, String(port), String(bytes));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 10_000;
  while (!out.includes('listening')) {
    if (Date.now() > deadline || child.exitCode !== null) {
      if (child.exitCode === null) child.kill('SIGKILL');
      throw new Error(`the TCP check server on ${addr}:${port} did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, output: () => out, exited };
}

/** How QEMU's vhost-user NIC of a test is wired. */
export interface VhostUserNicOptions {
  /** QEMU listens on the socket (`server=on,wait=off`; `vnic serve --client` connects) instead of connecting. */
  readonly listen?: boolean;
  readonly queuePairs?: number;
  /** The MAC; a random locally administered one when absent. */
  readonly mac?: string;
  /** More virtio-net-pci properties, e.g. `packed=on`. */
  readonly deviceProps?: readonly string[];
}

/**
 * The `-chardev -netdev -device` arguments of a virtio-net-pci NIC on a vhost-user netdev over
 * `socket`, with vectors=0 as PEERS.md requires and `mq=on` beyond one queue pair.
 */
export function vhostUserNicArgs(socket: string, o: VhostUserNicOptions = {}): string[] {
  const pairs = o.queuePairs ?? 1;
  const mac = o.mac ?? `52:54:00:${randomInt(16, 255).toString(16)}:00:${randomInt(16, 255).toString(16)}`;
  const props = ['vectors=0', ...(pairs > 1 ? ['mq=on'] : []), ...(o.deviceProps ?? [])];
  return [
    '-chardev',
    `socket,id=vu0,path=${socket}${o.listen === true ? ',server=on,wait=off' : ''}`,
    '-netdev',
    `vhost-user,id=n0,chardev=vu0${pairs > 1 ? `,queues=${pairs}` : ''}`,
    '-device',
    `virtio-net-pci,netdev=n0,mac=${mac},${props.join(',')}`,
  ];
}

/** What differs between the QEMU-guest TCP tests' VM runs. */
export interface TcpCheckGuestOptions {
  /** Guest RAM; 512 MiB when absent. */
  readonly memoryMiB?: number;
  readonly onProgress?: (line: string) => void;
}

/**
 * Boots the q35 test VM (2 vCPUs, memfd RAM shared with the vhost-user backend, 300 s at most) with
 * `qemuArgs` (its NIC) and runs `script` as /run/testvm/guest.sh, with TCP_CHECK_SCRIPT beside it as
 * /run/testvm/tcpcheck.py for the guest's side of the exchange.
 */
export function runTcpCheckGuest(script: string, qemuArgs: readonly string[], o: TcpCheckGuestOptions = {}): Promise<RunInVmResult> {
  return runInVm({
    command: ['/bin/sh', '/run/testvm/guest.sh'],
    machine: 'q35',
    sharedMemory: true,
    memoryMiB: o.memoryMiB ?? 512,
    cpus: 2,
    timeoutMs: 300_000,
    files: { 'guest.sh': script, 'tcpcheck.py': TCP_CHECK_SCRIPT },
    qemuArgs: [...qemuArgs],
    ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
  });
}
