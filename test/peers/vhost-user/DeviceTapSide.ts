import { PacketSocket } from '@vnic/sys';
import { VhostUserDeviceServer, type VhostUserDeviceOptions } from '@vnic/vhost-user-device';
import { Netns, uniqueName } from '@vnic/sys/testing';
import { TapSide } from './TapSide.ts';

/**
 * A VhostUserDeviceServer whose tap lives in a throw-away network namespace (IPv6 off: the kernel
 * stays silent), with an AF_PACKET socket on the tap inside it: `inject` sends frames towards the
 * frontend, `collect` gathers the frames the frontend sent back.
 */
export class DeviceTapSide extends TapSide {
  readonly server: VhostUserDeviceServer;

  private constructor(ns: Netns, server: VhostUserDeviceServer, sock: PacketSocket) {
    super(ns, server.tapName, sock);
    this.server = server;
  }

  /** Opens the server (not started) with its tap in a new namespace. */
  static create(options: Omit<VhostUserDeviceOptions, 'tap'>): DeviceTapSide {
    const ns = Netns.create('vnud');
    let server: VhostUserDeviceServer | undefined;
    try {
      ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
      server = VhostUserDeviceServer.open({ ...options, tap: uniqueName('vud') });
      ns.adopt(server.tapName);
      ns.ip('link', 'set', server.tapName, 'up');
      return new DeviceTapSide(ns, server, PacketSocket.open(server.tapName, { netns: ns.name }));
    } catch (e) {
      void server?.close();
      ns.delete();
      throw e;
    }
  }

  /** Closes the socket and the server, removes the namespace. */
  async close(): Promise<void> {
    this.sock.close();
    try {
      await this.server.close();
    } finally {
      this.ns.delete();
    }
  }
}

/** Resolves with the next `event` of the server (rejects after `timeoutMs`). */
export function nextEvent<K extends 'connected' | 'disconnected' | 'rings-started' | 'negotiated'>(
  server: VhostUserDeviceServer,
  event: K,
  timeoutMs = 15_000,
  accept: (...args: never[]) => boolean = () => true,
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${event}' event from the vhost-user device within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = server.events.on(event, (...args: never[]) => {
      if (!accept(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    });
  });
}
