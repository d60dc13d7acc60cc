import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Netns } from '@vnic/sys/testing';
import { formatMac } from '@vnic/driver';

/** Where pktgen's control files live (per network namespace). */
const DIR = '/proc/net/pktgen';

/**
 * The kernel's packet generator (module `pktgen`, Documentation/networking/pktgen.rst) flooding one
 * interface of a network namespace from the namespace's `kpktgend_0` thread: `frameLen`-byte UDP
 * frames to `dstMac`, as fast as the kernel thread builds them, no syscall or user copy per frame
 * (what makes it a source that can outrun a data plane when a user-space flooder cannot), no
 * back-off: a frame the interface's queue has no room for is dropped and counted there
 * (`tx_dropped`), so queued + dropped is what it offered. Stopped by `stop()` (pgctrl `stop`).
 */
export class Pktgen {
  private constructor(
    private readonly ns: Netns,
    private readonly ifname: string,
    private readonly runner: ChildProcessWithoutNullStreams,
    private readonly exited: Promise<void>,
  ) {}

  /** Configures the device on kpktgend_0 and starts the run (pgctrl `start` blocks in a child until `stop()`). */
  static start(ns: Netns, ifname: string, frameLen: number, dstMac: Uint8Array): Pktgen {
    const write = (file: string, cmd: string): void => {
      ns.exec('sh', '-c', `echo '${cmd}' > ${DIR}/${file}`);
    };
    write('kpktgend_0', 'rem_device_all');
    write('kpktgend_0', `add_device ${ifname}`);
    // pkt_size is the frame as the interface sees it (no FCS): 64 gives 64-byte frames (76 bytes used per RX buffer with the vnet header).
    for (const cmd of ['count 0', 'clone_skb 0', `pkt_size ${frameLen}`, 'delay 0', `dst_mac ${formatMac(dstMac)}`, 'flag NO_TIMESTAMP']) write(ifname, cmd);
    const runner = ns.spawn('sh', '-c', `echo start > ${DIR}/pgctrl`);
    let err = '';
    runner.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => runner.on('exit', () => resolve()));
    void exited.then(() => {
      if (err !== '') process.stderr.write(`pktgen on ${ifname}: ${err}`);
    });
    return new Pktgen(ns, ifname, runner, exited);
  }

  /** True while the run goes on. */
  get running(): boolean {
    return this.runner.exitCode === null && this.runner.signalCode === null;
  }

  /** Frames pktgen handed to the interface so far (`sofar` in its device file). */
  sent(): number {
    const m = /sofar:\s*(\d+)/.exec(this.ns.exec('cat', `${DIR}/${this.ifname}`));
    return m === null ? 0 : Number(m[1]);
  }

  /** Stops the run and removes the device from kpktgend_0. */
  async stop(): Promise<void> {
    if (this.running) this.ns.exec('sh', '-c', `echo stop > ${DIR}/pgctrl`);
    const gone = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
    if (!gone) this.runner.kill('SIGKILL');
    await this.exited;
    this.ns.exec('sh', '-c', `echo rem_device_all > ${DIR}/kpktgend_0`);
  }
}
