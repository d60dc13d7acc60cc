import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventFd } from '../EventFd.ts';
import { closeFd } from '../fd/closeFd.ts';
import { fdCount } from '../testing/fdCount.ts';
import { recvWithFds } from './recvWithFds.ts';
import { sendWithFds } from './sendWithFds.ts';
import { socketpair } from './socketpair.ts';
import { UnixSocket } from './UnixSocket.ts';

const dir = mkdtempSync(join(tmpdir(), 'vnic-sys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const O_CLOEXEC = 0o2000000;

function closeAll(...things: ({ close(): void } | number)[]): void {
  for (const t of things) {
    if (typeof t === 'number') {
      if (fdCount.isOpen(t)) closeFd(t);
    } else {
      t.close();
    }
  }
}

describe('SCM_RIGHTS over a socketpair', () => {
  it('passes an eventfd: a write on the received fd is read on the original', () => {
    const [a, b] = socketpair();
    const original = EventFd.create({ nonBlocking: true });
    let received: EventFd | undefined;
    try {
      sendWithFds(a, new TextEncoder().encode('kick'), [original.fd]);
      const msg = recvWithFds(b, 64, 4);
      expect(new TextDecoder().decode(msg.data)).toBe('kick');
      expect(msg.fds).toHaveLength(1);
      expect(msg.fds[0]).not.toBe(original.fd);
      expect(fdCount.flags(msg.fds[0]!) & O_CLOEXEC).toBe(O_CLOEXEC); // MSG_CMSG_CLOEXEC
      received = EventFd.fromFd(msg.fds[0]!);
      received.write(41n);
      received.write(1n);
      expect(original.read()).toBe(42n);
    } finally {
      closeAll(a, b, original, ...(received === undefined ? [] : [received]));
    }
  });

  it('passes 32 fds in one message and keeps their order', () => {
    const [a, b] = socketpair();
    const efds = Array.from({ length: 32 }, (_, i) => EventFd.create({ nonBlocking: true, initial: i + 1 }));
    const got: number[] = [];
    try {
      sendWithFds(
        a,
        new Uint8Array([1]),
        efds.map((e) => e.fd),
      );
      const msg = recvWithFds(b, 8, 32);
      got.push(...msg.fds);
      expect(msg.fds).toHaveLength(32);
      msg.fds.forEach((fd, i) => {
        const e = EventFd.fromFd(fd);
        expect(e.read()).toBe(BigInt(i + 1));
        e.close();
      });
      expect(() => sendWithFds(a, new Uint8Array([1]), new Array<number>(33).fill(efds[0]!.fd))).toThrow(/at most 32/);
      expect(() => sendWithFds(a, new Uint8Array(0), [efds[0]!.fd])).toThrow(/at least one byte/);
    } finally {
      closeAll(a, b, ...efds, ...got);
    }
  });

  it('closes the fds that did arrive and throws when more were sent than maxFds (MSG_CTRUNC)', () => {
    const [a, b] = socketpair();
    const efds = [EventFd.create(), EventFd.create(), EventFd.create()];
    try {
      const before = fdCount.fds();
      sendWithFds(
        a,
        new Uint8Array([7]),
        efds.map((e) => e.fd),
      );
      expect(() => recvWithFds(b, 8, 1)).toThrow(expect.objectContaining({ syscall: 'recvmsg', request: 'MSG_CTRUNC', code: 'EMSGSIZE' }));
      expect(fdCount.fds()).toBe(before);
      sendWithFds(a, new Uint8Array([8]), [efds[0]!.fd]);
      expect(() => recvWithFds(b, 8, 0)).toThrow(/more fds than the 0/);
      expect(fdCount.fds()).toBe(before);
    } finally {
      closeAll(a, b, ...efds);
    }
  });

  it('reports end of stream as empty data and a closed peer as EPIPE', () => {
    const [a, b] = UnixSocket.pair();
    try {
      b.close();
      expect(() => a.send(new Uint8Array([1]))).toThrow(expect.objectContaining({ syscall: 'sendmsg', code: 'EPIPE' }));
    } finally {
      closeAll(a, b);
    }
    const [c, d] = UnixSocket.pair();
    try {
      c.close();
      expect(d.recv(16).data.byteLength).toBe(0);
    } finally {
      closeAll(c, d);
    }
  });
});

describe('UnixSocket', () => {
  it('listens on a path, accepts, and carries data and fds both ways; close removes the path', () => {
    const path = join(dir, 'a.sock');
    const server = UnixSocket.listen(path);
    const client = UnixSocket.connect(path);
    const conn = server.accept();
    const efd = EventFd.create({ nonBlocking: true });
    try {
      client.send(new Uint8Array([1, 2, 3]), [efd.fd]);
      const m = conn.recv(16);
      expect([...m.data]).toEqual([1, 2, 3]);
      const peer = EventFd.fromFd(m.fds[0]!);
      peer.write(3n);
      peer.close();
      expect(efd.read()).toBe(3n);
      conn.send(new Uint8Array([9]));
      expect([...client.recv(16).data]).toEqual([9]);
    } finally {
      closeAll(client, conn, server, efd);
    }
    expect(() => UnixSocket.connect(path)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('acceptAsync and recvAsync resolve later without blocking the event loop', async () => {
    const path = join(dir, 'b.sock');
    const server = UnixSocket.listen(path);
    let client: UnixSocket | undefined;
    let conn: UnixSocket | undefined;
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    try {
      const connecting = setTimeout(() => {
        client = UnixSocket.connect(path);
      }, 60);
      conn = await server.acceptAsync();
      clearTimeout(connecting);
      expect(client).toBeDefined();
      const ticksAfterAccept = ticks;
      expect(ticksAfterAccept).toBeGreaterThanOrEqual(3);
      const sending = setTimeout(() => client!.send(new TextEncoder().encode('SET_MEM_TABLE')), 60);
      const m = await conn.recvAsync(64, 4);
      clearTimeout(sending);
      expect(new TextDecoder().decode(m.data)).toBe('SET_MEM_TABLE');
      expect(m.fds).toEqual([]);
      expect(ticks - ticksAfterAccept).toBeGreaterThanOrEqual(3);
    } finally {
      clearInterval(ticker);
      closeAll(...[client, conn].filter((s) => s !== undefined), server);
    }
  });

  it('close wakes a pending recvAsync (empty data) and a pending acceptAsync (invalid-state)', async () => {
    const [a, b] = UnixSocket.pair();
    const pendingRecv = b.recvAsync(16);
    setTimeout(() => b.close(), 30);
    expect((await pendingRecv).data.byteLength).toBe(0);
    a.close();

    const server = UnixSocket.listen(join(dir, 'c.sock'));
    const pendingAccept = server.acceptAsync();
    setTimeout(() => server.close(), 30);
    await expect(pendingAccept).rejects.toThrow(/closed while accepting/);
  });

  it('gives clear errors: connect to nothing, listen on an existing path, bad paths, use after close', () => {
    const missing = join(dir, 'missing.sock');
    expect(() => UnixSocket.connect(missing)).toThrow(
      `connect ${missing}: ENOENT (2) — socket ${missing} not found: start the backend first or check the path`,
    );
    const taken = join(dir, 'taken.sock');
    writeFileSync(taken, '');
    expect(() => UnixSocket.listen(taken)).toThrow(expect.objectContaining({ syscall: 'bind', code: 'EADDRINUSE' }));
    expect(() => UnixSocket.listen('x'.repeat(108))).toThrow(/1\.\.107 bytes/);
    const [a, b] = UnixSocket.pair();
    a.close();
    a.close();
    b.close();
    expect(() => a.send(new Uint8Array([1]))).toThrow(/closed/);
  });
});
