import { BackendReq, decodeHeader, encodeMessage } from '@vnic/vhost-user-protocol';
import { readdirSync } from 'node:fs';
import { EventFd, UnixSocket, dupFd, setNonBlocking } from '@vnic/sys';
import { afterEach, describe, expect, it } from 'vitest';
import { VHOST_USER_NEED_REPLY_MASK, VHOST_USER_REPLY_MASK } from '@vnic/vhost-user-protocol/vhost_user';
import type { VhostUserError } from '../VhostUserError.ts';
import { BackendChannel } from './BackendChannel.ts';
import { EpollLoop } from '@vnic/sys';

const fds = (): number => readdirSync('/proc/self/fd').length;

/** The backend's end, written by hand: takes the fd as a backend gets it with SET_BACKEND_REQ_FD. */
function setup(): { channel: BackendChannel; backend: UnixSocket; loop: EpollLoop; changes: number[]; errors: VhostUserError[] } {
  const loop = new EpollLoop(20);
  const changes: number[] = [];
  const errors: VhostUserError[] = [];
  const channel = BackendChannel.open(loop, 'test.sock', { onConfigChange: () => changes.push(Date.now()), onError: (e) => errors.push(e) });
  // What SET_BACKEND_REQ_FD does: the backend gets a copy of the end (SCM_RIGHTS dups it), then
  // vnic closes its own copy.
  const backend = UnixSocket.fromFd(dupFd(channel.backendFd));
  channel.closeBackendFd();
  return { channel, backend, loop, changes, errors };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const open: { channel: BackendChannel; loop: EpollLoop; backend: UnixSocket }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    o.channel.close();
    o.backend.close();
    await o.loop.close();
  }
});

describe('BackendChannel (backend-initiated requests)', () => {
  it('acks CONFIG_CHANGE_MSG with 0 when asked and reports it; refuses other requests with a non-zero ack', async () => {
    const s = setup();
    open.push(s);
    s.backend.send(encodeMessage(BackendReq.CONFIG_CHANGE_MSG, undefined, VHOST_USER_NEED_REPLY_MASK));
    const ack = await s.backend.recvAsync(64);
    expect(decodeHeader(ack.data)).toEqual({ request: BackendReq.CONFIG_CHANGE_MSG, flags: 1 | VHOST_USER_REPLY_MASK, size: 8 });
    expect(Buffer.from(ack.data.subarray(12)).readBigUInt64LE()).toBe(0n);
    expect(s.changes).toHaveLength(1);
    expect(s.channel.configChanges).toBe(1);

    s.backend.send(encodeMessage(BackendReq.IOTLB_MSG, new Uint8Array(64), VHOST_USER_NEED_REPLY_MASK));
    const nack = await s.backend.recvAsync(64);
    expect(decodeHeader(nack.data).request).toBe(BackendReq.IOTLB_MSG);
    expect(Buffer.from(nack.data.subarray(12)).readBigUInt64LE()).not.toBe(0n);
    expect(s.channel.refused).toBe(1);
    expect(s.errors).toEqual([]);
  });

  it('sends no reply without NEED_REPLY, and handles two messages in one read', async () => {
    const s = setup();
    open.push(s);
    const two = new Uint8Array(24);
    two.set(encodeMessage(BackendReq.CONFIG_CHANGE_MSG), 0);
    two.set(encodeMessage(BackendReq.CONFIG_CHANGE_MSG), 12);
    s.backend.send(two);
    await until('two config changes', () => s.changes.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    setNonBlocking(s.backend.fd, true);
    expect(() => s.backend.recv(64)).toThrow(/EAGAIN/); // nothing was answered
  });

  it('closes the channel with a clear error on an oversized size field or a wrong version, closing received fds', async () => {
    for (const [bytes, pattern] of [
      [
        (() => {
          const m = encodeMessage(BackendReq.CONFIG_CHANGE_MSG);
          new DataView(m.buffer).setUint32(8, 0x10000, true);
          return m;
        })(),
        /CONFIG_CHANGE_MSG: the header announces 65536 payload bytes; the maximum is 4096/,
      ],
      [
        (() => {
          const m = encodeMessage(BackendReq.VRING_CALL);
          new DataView(m.buffer).setUint32(4, 2, true);
          return m;
        })(),
        /VRING_CALL: version 2 in flags 0x2, expected 1/,
      ],
    ] as const) {
      const before = fds();
      const s = setup();
      const extra = EventFd.create();
      s.backend.send(bytes, [extra.fd]);
      extra.close();
      await until('the error', () => s.errors.length === 1);
      expect(s.errors[0]!.message).toMatch(pattern);
      expect(s.errors[0]!.message).toMatch(/^vhost-user test\.sock: backend channel: .*the channel is closed$/);
      expect(s.channel.closed).toBe(true);
      s.backend.close();
      await s.loop.close();
      expect(fds()).toBe(before);
    }
  });

  it('ends quietly when the backend closes its end', async () => {
    const s = setup();
    open.push(s);
    s.backend.close();
    await until('closed', () => s.channel.closed);
    expect(s.errors).toEqual([]);
  });
});
