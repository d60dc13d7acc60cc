import { UnixSocket } from '@vnic/sys';
import { VhostUserDeviceServer, type VhostUserDeviceOptions } from '@vnic/vhost-user-device';
import { decodeHeader, encodeMemoryTable, encodeMessage, VHOST_USER_HDR_SIZE, VHOST_USER_REPLY_MASK } from '@vnic/vhost-user-protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { fdCount, needsPeer, uniqueName } from '@vnic/sys/testing';

/** Reads the reply to `request`: a REPLY-flagged header for it with a `size`-byte payload, which it returns. */
export async function reply(sock: UnixSocket, request: number, size: number): Promise<Uint8Array> {
  const { data } = await sock.recvAsync(VHOST_USER_HDR_SIZE + size);
  const h = decodeHeader(data);
  expect(h.request).toBe(request);
  expect(h.flags & VHOST_USER_REPLY_MASK).not.toBe(0);
  expect(h.size).toBe(size);
  return data.subarray(VHOST_USER_HDR_SIZE);
}

/** True when the hostile-frontend tests can run (root, for the tap); otherwise skipped with the reason (a failure under CI). */
export function hostileTestsRun(what: string): boolean {
  return !needsPeer(what, process.getuid?.() === 0 ? undefined : 'needs root for the tap').skip;
}

/** A region of a test memory table (numbers for brevity, BigInt on the wire). */
export interface TestRegion {
  readonly gpa: number;
  readonly size: number;
  readonly user: bigint;
  readonly offset?: number;
}

/** A SET_MEM_TABLE payload for `regions`. */
export function memTable(regions: readonly TestRegion[]): Uint8Array {
  return encodeMemoryTable(
    regions.map((r) => ({ guestPhysAddr: BigInt(r.gpa), memorySize: BigInt(r.size), userspaceAddr: r.user, mmapOffset: BigInt(r.offset ?? 0) })),
  );
}

/** Sends one vhost-user message as a frontend would. */
export function send(sock: UnixSocket, request: number, payload?: Uint8Array, fds: number[] = [], flags = 0): void {
  sock.send(encodeMessage(request, payload, flags), fds);
}

type ServerOptions = Omit<VhostUserDeviceOptions, 'socket' | 'tap'>;

/** The server of a hostile-frontend test file and the helpers that talk to it (made by hostileServer()). */
export class HostileServer {
  /** A private directory for sockets and files (removed after the file). */
  dir = '';
  /** The server's socket path. */
  path = '';
  server!: VhostUserDeviceServer;
  /** The fd count after the server started (what must be back after every connection). */
  fds0 = 0;
  private readonly tapPrefix: string;
  private readonly reasons: (Error | undefined)[] = [];
  private readonly extras: VhostUserDeviceServer[] = [];

  constructor(tapPrefix: string) {
    this.tapPrefix = tapPrefix;
  }

  /** Opens and starts a server on `socket` whose connection ends are recorded for session(). */
  open(socket: string, options: ServerOptions): VhostUserDeviceServer {
    const s = VhostUserDeviceServer.open({ ...options, socket, tap: uniqueName(this.tapPrefix) });
    s.events.on('disconnected', (r) => this.reasons.push(r));
    s.start();
    return s;
  }

  /** Starts a second server on `<dir>/<name>` whose connection ends feed the same session() (closed after the file). */
  extra(name: string, options: ServerOptions = {}): VhostUserDeviceServer {
    const s = this.open(join(this.dir, name), options);
    this.extras.push(s);
    return s;
  }

  /**
   * Connects to `sockPath` (default the server's), runs `talk`, waits until the server ends the
   * connection and resolves with the error that ended it (undefined for a clean disconnect).
   */
  readonly session = async (talk: (sock: UnixSocket) => Promise<void> | void, sockPath = this.path): Promise<Error | undefined> => {
    const before = this.reasons.length;
    const sock = UnixSocket.connect(sockPath);
    try {
      await talk(sock);
      const deadline = Date.now() + 5000;
      while (this.reasons.length === before) {
        if (Date.now() > deadline) throw new Error('the server did not drop the connection');
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      sock.close();
    }
    return this.reasons[before];
  };

  /** Closes every server and removes the directory. */
  async close(): Promise<void> {
    for (const s of this.extras) await s.close();
    await (this.server as VhostUserDeviceServer | undefined)?.close();
    if (this.dir !== '') rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Registers beforeAll/afterAll that start a real VhostUserDeviceServer (real tap named
 * `<tapPrefix>...`) in a private directory and close it afterwards; the returned object is filled
 * in by beforeAll.
 */
export function hostileServer(tapPrefix: string, options: ServerOptions = {}): HostileServer {
  const h = new HostileServer(tapPrefix);
  beforeAll(() => {
    h.dir = mkdtempSync(join(tmpdir(), `vnic-${tapPrefix}-`));
    h.path = join(h.dir, 'dev.sock');
    h.server = h.open(h.path, options);
    h.fds0 = fdCount.fds();
  });
  afterAll(() => h.close());
  return h;
}
