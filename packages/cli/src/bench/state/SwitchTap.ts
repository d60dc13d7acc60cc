import { PacketSocket, Tap } from '@vnic/sys';
import { Netns, uniqueName } from '@vnic/sys/testing';

/** A tap the caller owns, in its own namespace, with a packet socket on it there. */
export class SwitchTap {
  readonly ns: Netns;
  readonly tap: Tap;
  readonly sock: PacketSocket;
  readonly #buf = new Uint8Array(65536);

  private constructor(ns: Netns, tap: Tap, sock: PacketSocket) {
    this.ns = ns;
    this.tap = tap;
    this.sock = sock;
  }

  /** Creates the namespace and the tap (IFF_VNET_HDR, multi-queue), moves the tap in, brings it up. */
  static create(): SwitchTap {
    const ns = Netns.create('vnsw');
    let tap: Tap | undefined;
    try {
      ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
      tap = Tap.open({ name: uniqueName('vsw'), vnetHdr: true, multiQueue: true });
      ns.adopt(tap.name);
      ns.ip('link', 'set', tap.name, 'up');
      return new SwitchTap(ns, tap, PacketSocket.open(tap.name, { netns: ns.name, receiveBuffer: 16 << 20 }));
    } catch (e) {
      tap?.close();
      ns.delete();
      throw e;
    }
  }

  /** The `tapFds` for a backend section. */
  get fds(): number[] {
    return [...this.tap.fds];
  }

  /** Takes every frame queued on the packet socket. */
  drain(onFrame: (f: Uint8Array) => void): void {
    for (let n = this.sock.recv(this.#buf); n > 0; n = this.sock.recv(this.#buf)) onFrame(this.#buf.subarray(0, n));
  }

  /** Closes the socket and the tap, removes the namespace. */
  close(): void {
    this.sock.close();
    try {
      this.tap.close();
    } finally {
      this.ns.delete();
    }
  }
}
