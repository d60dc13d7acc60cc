import { readdirSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EpollLoop, EventFd, UnixSocket } from '@vnic/sys';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { decodeHeader, encodeMessage, encodeU64, FrontendReq } from '@vnic/vhost-user-protocol';
import { VHOST_USER_NEED_REPLY_MASK, VHOST_USER_REPLY_MASK } from '@vnic/vhost-user-protocol/vhost_user';
import { MessageReframer } from '@vnic/vhost-user-protocol/testing';
import { VhostUserError } from '../VhostUserError.ts';
import { VhostUserConnection } from './VhostUserConnection.ts';
import { VhostUserListener } from './VhostUserListener.ts';

const fds = (): number => readdirSync('/proc/self/fd').length;
const dir = mkdtempSync(join(tmpdir(), 'vnic-vu-conn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The backend side of a socketpair, written by hand: reads requests, answers whatever the test says. */
class HostilePeer {
  constructor(readonly sock: UnixSocket) {}
  /** Next request from the frontend (header + payload; fds closed). */
  async next(): Promise<{ request: number; flags: number; size: number; payload: Uint8Array; fds: number }> {
    const r = await this.sock.recvAsync(4096 + 12);
    for (const fd of r.fds) EventFd.fromFd(fd).close();
    const h = decodeHeader(r.data);
    return { ...h, payload: r.data.slice(12, 12 + h.size), fds: r.fds.length };
  }
  /** The next `count` requests (several may come in one read: the frontend pipelines them). */
  async many(count: number): Promise<{ request: number; flags: number; size: number }[]> {
    const out: { request: number; flags: number; size: number }[] = [];
    const reframer = new MessageReframer();
    while (out.length < count) {
      const r = await this.sock.recvAsync(4096 + 12);
      for (const fd of r.fds) EventFd.fromFd(fd).close();
      out.push(...reframer.push(r.data));
    }
    return out;
  }
  reply(request: number, payload: Uint8Array, flags = 0x1 | VHOST_USER_REPLY_MASK, fds: number[] = []): void {
    const m = encodeMessage(request, payload);
    new DataView(m.buffer).setUint32(4, flags, true);
    this.sock.send(m, fds);
  }
}

const open: { close(): void }[] = [];
function pair(replyTimeoutMs = 500, onClose?: (e: Error) => void): { conn: VhostUserConnection; peer: HostilePeer } {
  const [a, b] = UnixSocket.pair();
  const conn = VhostUserConnection.fromSocket(a, 'test.sock', { replyTimeoutMs, ...(onClose === undefined ? {} : { onClose }) });
  open.push(conn, b);
  return { conn, peer: new HostilePeer(b) };
}

afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await new Promise((r) => setTimeout(r, 120)); // let the connections' own loops finish their slice
});

describe('VhostUserConnection against a well-behaved peer', () => {
  it('sends a request and returns the validated reply', async () => {
    const { conn, peer } = pair();
    const p = conn.call(FrontendReq.GET_FEATURES, undefined, 8);
    const req = await peer.next();
    expect(req).toMatchObject({ request: FrontendReq.GET_FEATURES, flags: 1, size: 0 });
    peer.reply(FrontendReq.GET_FEATURES, encodeU64(0x1234n));
    expect(Buffer.from(await p).readBigUInt64LE()).toBe(0x1234n);
  });

  it('pipelines requests in call order (replies matched oldest first); a request with fds is written only after the earlier replies', async () => {
    const { conn, peer } = pair();
    const a = conn.call(FrontendReq.GET_FEATURES, undefined, 8);
    const b = conn.call(FrontendReq.GET_PROTOCOL_FEATURES, undefined, 8);
    const e = EventFd.create();
    let kickWritten = false;
    const kick = conn.send(FrontendReq.SET_VRING_KICK, encodeU64(0n), [e.fd]).then(() => (kickWritten = true));
    // Both requests are on the wire before any reply.
    expect((await peer.many(2)).map((m) => m.request)).toEqual([FrontendReq.GET_FEATURES, FrontendReq.GET_PROTOCOL_FEATURES]);
    await new Promise((r) => setImmediate(r));
    expect(kickWritten).toBe(false); // the request with an fd waits for both replies (without REPLY_ACK it resolves once written)
    peer.reply(FrontendReq.GET_FEATURES, encodeU64(1n));
    peer.reply(FrontendReq.GET_PROTOCOL_FEATURES, encodeU64(2n));
    expect([Buffer.from(await a).readBigUInt64LE(), Buffer.from(await b).readBigUInt64LE()]).toEqual([1n, 2n]);
    await kick;
    const r = await peer.next();
    expect(r).toMatchObject({ request: FrontendReq.SET_VRING_KICK, fds: 1 });
    e.close();
  });

  it('with REPLY_ACK sets NEED_REPLY and waits for the ack; a non-zero ack is backend-refused', async () => {
    const { conn, peer } = pair();
    conn.replyAck = true;
    const ok = conn.send(FrontendReq.SET_OWNER);
    const r = await peer.next();
    expect(r.flags & VHOST_USER_NEED_REPLY_MASK).toBe(VHOST_USER_NEED_REPLY_MASK);
    peer.reply(FrontendReq.SET_OWNER, encodeU64(0n));
    await ok;
    const bad = conn.send(FrontendReq.SET_FEATURES, encodeU64(1n));
    await peer.next();
    peer.reply(FrontendReq.SET_FEATURES, encodeU64(1n));
    await expect(bad).rejects.toMatchObject({ kind: 'backend-refused', message: expect.stringMatching(/SET_FEATURES: the backend answered REPLY_ACK 1/) });
  });

  it('attaches fds (SCM_RIGHTS) to a request', async () => {
    const { conn, peer } = pair();
    const e = EventFd.create();
    await conn.send(FrontendReq.SET_VRING_KICK, encodeU64(0n), [e.fd]);
    const r = await peer.next();
    expect(r.fds).toBe(1);
    e.close();
  });
});

describe('VhostUserConnection against a hostile peer: clear error, bounded time, no fd leaked', () => {
  async function hostile(act: (peer: HostilePeer) => void | Promise<void>, expected: { kind: string; message: RegExp }): Promise<void> {
    const before = fds();
    const closes: Error[] = [];
    const { conn, peer } = pair(1000, (e) => closes.push(e));
    const p = conn.call(FrontendReq.GET_FEATURES, undefined, 8);
    await peer.next();
    await act(peer);
    // The peer's act, not the 1000 ms reply timeout, ended the call: the kind and message say which.
    await expect(p).rejects.toMatchObject(expected);
    expect(conn.closed).toBe(true);
    expect(closes.map((e) => e.message)).toEqual([expect.stringMatching(expected.message)]);
    await expect(conn.call(FrontendReq.GET_FEATURES, undefined, 8)).rejects.toMatchObject({ kind: 'disconnected', message: /connection is closed/ });
    peer.sock.close();
    // Every fd of the connection is released (poll with a deadline: the loop closes its side asynchronously).
    for (const deadline = Date.now() + 5000; fds() !== before && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 10));
    expect(fds()).toBe(before);
  }

  it('garbage bytes', () =>
    hostile((peer) => peer.sock.send(Uint8Array.from({ length: 20 }, (_, i) => (i * 37 + 11) & 0xff)), {
      kind: 'protocol',
      message: /GET_FEATURES.*(the reply is for request \d+, expected GET_FEATURES|announces \d+ payload bytes)/,
    }));

  it('a reply with the wrong request code', () =>
    hostile((peer) => peer.reply(FrontendReq.GET_QUEUE_NUM, encodeU64(1n)), {
      kind: 'protocol',
      message: /reply is for GET_QUEUE_NUM, expected GET_FEATURES/,
    }));

  it('a reply without the REPLY flag', () =>
    hostile((peer) => peer.reply(FrontendReq.GET_FEATURES, encodeU64(1n), 0x1), { kind: 'protocol', message: /lacks the REPLY flag/ }));

  it('a reply of the wrong size', () =>
    hostile((peer) => peer.reply(FrontendReq.GET_FEATURES, new Uint8Array(4)), { kind: 'protocol', message: /reply payload is 4 bytes, expected 8/ }));

  it('an oversized size field', () =>
    hostile(
      (peer) => {
        const h = new Uint8Array(12);
        const v = new DataView(h.buffer);
        v.setUint32(0, FrontendReq.GET_FEATURES, true);
        v.setUint32(4, 0x5, true);
        v.setUint32(8, 0xffff_fff0, true);
        peer.sock.send(h);
      },
      { kind: 'protocol', message: /announces 4294967280 payload bytes .* maximum is 4096/ },
    ));

  it('fds attached to a reply (32 of them, all closed)', () =>
    hostile(
      (peer) => {
        const evs = Array.from({ length: 32 }, () => EventFd.create());
        peer.reply(
          FrontendReq.GET_FEATURES,
          encodeU64(1n),
          0x5,
          evs.map((e) => e.fd),
        );
        for (const e of evs) e.close();
      },
      { kind: 'protocol', message: /attached 32 fd\(s\) to a message/ },
    ));

  it('closing in the middle of a message', () =>
    hostile(
      (peer) => {
        peer.sock.send(encodeMessage(FrontendReq.GET_FEATURES, encodeU64(1n)).subarray(0, 14));
        peer.sock.close();
      },
      { kind: 'disconnected', message: /closed the connection in the middle of a message \(14 bytes of it received\) while GET_FEATURES waited/ },
    ));

  it('silence: the reply timeout', () => hostile(() => {}, { kind: 'timeout', message: /GET_FEATURES: no reply within 1000 ms \(expected 8-byte reply\)/ }));

  it('an unsolicited message while nothing is asked', async () => {
    const closes: Error[] = [];
    const { conn, peer } = pair(500, (e) => closes.push(e));
    peer.reply(FrontendReq.SET_VRING_ENABLE, new Uint8Array(8), 0x1);
    const deadline = Date.now() + 1000;
    while (!conn.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(closes[0]?.message).toMatch(/unsolicited SET_VRING_ENABLE message/);
  });
});

describe('connecting', () => {
  it('client mode retries until the backend listens, then gives up with `unavailable`', async () => {
    const path = join(dir, 'late.sock');
    const loop = new EpollLoop();
    const t0 = Date.now();
    await expect(VhostUserConnection.connect(path, { connectTimeoutMs: 100, loop })).rejects.toMatchObject({
      kind: 'unavailable',
      message: expect.stringMatching(/no backend is listening \(ENOENT\) after 100 ms: start the backend/),
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    const later = new Promise<UnixSocket>((resolve) => {
      setTimeout(() => {
        const l = UnixSocket.listen(path);
        open.push(l);
        resolve(l);
      }, 60);
    });
    const conn = await VhostUserConnection.connect(path, { connectTimeoutMs: 2000, loop });
    open.push(conn);
    open.push((await later).accept());
    expect(conn.closed).toBe(false);
    conn.close();
    await loop.close();
  });

  it('server mode accepts the backend, and times out with `unavailable` when none comes', async () => {
    const path = join(dir, 'server.sock');
    const loop = new EpollLoop(50);
    const listener = VhostUserListener.listen(path, loop);
    await expect(listener.accept(80)).rejects.toMatchObject({ kind: 'unavailable', message: /no backend connected within 80 ms/ });
    const accepted = listener.accept(2000);
    const client = UnixSocket.connect(path);
    const sock = await accepted;
    const conn = VhostUserConnection.fromSocket(sock, path, { loop });
    const p = conn.call(FrontendReq.GET_FEATURES, undefined, 8);
    const peer = new HostilePeer(client);
    await peer.next();
    peer.reply(FrontendReq.GET_FEATURES, encodeU64(7n));
    expect(Buffer.from(await p).readBigUInt64LE()).toBe(7n);
    conn.close();
    client.close();
    listener.close();
    await loop.close();
    expect(() => UnixSocket.connect(path)).toThrow(/ENOENT/);
  });

  it('rejects a second accept() and refuses listening on a taken path', async () => {
    const path = join(dir, 'taken.sock');
    const loop = new EpollLoop(50);
    const listener = VhostUserListener.listen(path, loop);
    const first = listener.accept(100);
    await expect(listener.accept(100)).rejects.toBeInstanceOf(VhostUserError);
    await expect(first).rejects.toMatchObject({ kind: 'unavailable' });
    expect(() => VhostUserListener.listen(path, loop)).toThrow(/cannot listen \(server mode\).*EADDRINUSE/);
    listener.close();
    await loop.close();
  });
});
