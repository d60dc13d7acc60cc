import type { NetDeviceConfig } from '@vnic/core';
import { PacketSocket } from '@vnic/sys';
import { VirtioNetTapDevice } from '@vnic/virtio-net';
import { Netns } from '../../../packages/sys/src/testing/Netns.ts';
import { uniqueName } from '../../../packages/sys/src/testing/uniqueName.ts';

/** Options of TapNetns.create. */
export interface TapNetnsOptions {
  /** Address (CIDR) for the tap inside the namespace; none: the kernel sends nothing on it. */
  readonly address?: string;
  /** Open a PacketSocket on the tap inside the namespace (the "outside" of the NIC). */
  readonly packetSocket?: boolean;
  /** Backend options (the "virtio-net" section); default: a unique tap name. */
  readonly options?: Record<string, unknown>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A VirtioNetTapDevice whose tap lives in a throw-away network namespace (IPv6 off, so the kernel
 * is silent unless an address is given), optionally with an AF_PACKET socket on the tap inside the
 * namespace: `send` injects a frame towards the guest, `capture` collects frames the guest sent.
 */
export class TapNetns {
  readonly ns: Netns;
  readonly device: VirtioNetTapDevice;
  readonly sock: PacketSocket | undefined;
  private readonly buf = new Uint8Array(65536);
  private closed = false;

  private constructor(ns: Netns, device: VirtioNetTapDevice, sock: PacketSocket | undefined) {
    this.ns = ns;
    this.device = device;
    this.sock = sock;
  }

  /** Creates the namespace and the device, moves the tap in and brings it up. */
  static create(config: NetDeviceConfig, opts: TapNetnsOptions = {}): TapNetns {
    const ns = Netns.create('vnvn');
    let device: VirtioNetTapDevice | undefined;
    let sock: PacketSocket | undefined;
    try {
      ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
      device = VirtioNetTapDevice.open({ ...config, options: opts.options ?? { tap: uniqueName('vnt') } });
      ns.adopt(device.tapName);
      if (opts.address !== undefined) ns.ip('addr', 'add', opts.address, 'dev', device.tapName);
      ns.ip('link', 'set', device.tapName, 'up');
      if (opts.packetSocket === true) sock = PacketSocket.open(device.tapName, { netns: ns.name });
      return new TapNetns(ns, device, sock);
    } catch (e) {
      sock?.close();
      void device?.close();
      ns.delete();
      throw e;
    }
  }

  /** The tap's name. */
  get tap(): string {
    return this.device.tapName;
  }

  /** Injects a frame on the tap from the namespace side (the device reads it from the tap fd). */
  send(frame: Uint8Array): void {
    if (this.sock === undefined) throw new Error('no packet socket');
    if (!this.sock.send(frame)) throw new Error('packet socket buffer full');
  }

  /** Collects `count` frames accepted by `want` that the guest sent (rejects after `timeoutMs`). */
  async capture(count: number, want: (f: Uint8Array) => boolean, timeoutMs = 3000): Promise<Uint8Array[]> {
    const sock = this.sock;
    if (sock === undefined) throw new Error('no packet socket');
    const out: Uint8Array[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count) {
      const n = sock.recv(this.buf);
      if (n > 0) {
        const f = this.buf.slice(0, n);
        if (want(f)) out.push(f);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${this.tap}: ${out.length}/${count} frames from the guest after ${timeoutMs} ms`);
      await sleep(1);
    }
    return out;
  }

  /** Drops frames queued on the packet socket. */
  drain(): void {
    if (this.sock === undefined) return;
    while (this.sock.recv(this.buf) > 0);
  }

  /** Closes the socket and the device, removes the namespace. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sock?.close();
    try {
      await this.device.close();
    } finally {
      this.ns.delete();
    }
  }
}
