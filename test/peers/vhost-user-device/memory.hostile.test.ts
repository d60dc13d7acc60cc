import { MemfdGuestMemory, UnixSocket } from '@vnic/sys';
import { VhostUserDeviceServer } from '@vnic/vhost-user-device';
import {
  decodeHeader,
  decodeU64,
  encodeMemoryTable,
  encodeMessage,
  encodeU64,
  FrontendReq,
  VHOST_USER_HDR_SIZE,
  VHOST_USER_NEED_REPLY_MASK,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
} from '@vnic/vhost-user-protocol';
import { mkdtempSync, openSync, closeSync, rmSync, ftruncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fdCount, needsPeer, uniqueName } from '@vnic/sys/testing';

// A frontend whose guest memory could shrink under the server: an unsealed memfd, a memfd shrunk
// after it was created, a plain file, a pipe. The first three would let a frontend kill the server
// with SIGBUS (ftruncate after SET_MEM_TABLE); each is refused with the reason and what to do, the
// server lives on and serves a well-behaved frontend (sealed memfd), and nothing leaks. A second
// server started with allowUnsealedMemory maps the unsealed memfd.

const root = !needsPeer('vhost-user device memory', process.getuid?.() === 0 ? undefined : 'needs root for the tap').skip;

const MEMFD = 'vnic-memhostile';
const MiB = 1 << 20;

describe.skipIf(!root)('vhost-user device: guest memory a frontend could shrink', () => {
  let dir: string;
  let server: VhostUserDeviceServer;
  let path: string;
  const reasons: (Error | undefined)[] = [];
  let fds0 = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vnic-vudm-'));
    path = join(dir, 'dev.sock');
    server = VhostUserDeviceServer.open({ socket: path, tap: uniqueName('vudm') });
    server.events.on('disconnected', (r) => reasons.push(r));
    server.start();
    fds0 = fdCount.fds();
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function session(sockPath: string, talk: (sock: UnixSocket) => Promise<void> | void): Promise<Error | undefined> {
    const before = reasons.length;
    const sock = UnixSocket.connect(sockPath);
    try {
      await talk(sock);
      const deadline = Date.now() + 5000;
      while (reasons.length === before) {
        if (Date.now() > deadline) throw new Error('the server did not drop the connection');
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      sock.close();
    }
    return reasons[before];
  }

  const send = (sock: UnixSocket, request: number, payload?: Uint8Array, fds: number[] = [], flags = 0): void =>
    sock.send(encodeMessage(request, payload, flags), fds);
  const table = (size: number): Uint8Array => encodeMemoryTable([{ guestPhysAddr: 0n, memorySize: BigInt(size), userspaceAddr: 0x7000_0000n, mmapOffset: 0n }]);

  async function setMemTable(sockPath: string, fd: number, size: number): Promise<{ reason: Error | undefined; ack: bigint | undefined }> {
    let ack: bigint | undefined;
    const reason = await session(sockPath, async (s) => {
      send(s, FrontendReq.GET_PROTOCOL_FEATURES);
      await s.recvAsync(VHOST_USER_HDR_SIZE + 8);
      send(s, FrontendReq.SET_PROTOCOL_FEATURES, encodeU64(1n << BigInt(VHOST_USER_PROTOCOL_F_REPLY_ACK)));
      send(s, FrontendReq.SET_OWNER);
      send(s, FrontendReq.SET_MEM_TABLE, table(size), [fd], VHOST_USER_NEED_REPLY_MASK);
      const { data } = await s.recvAsync(VHOST_USER_HDR_SIZE + 8);
      if (data.length === VHOST_USER_HDR_SIZE + 8) {
        expect(decodeHeader(data).request).toBe(FrontendReq.SET_MEM_TABLE);
        ack = decodeU64(data.subarray(VHOST_USER_HDR_SIZE));
      }
      if (ack === 0n) s.close();
    });
    return { reason, ack };
  }

  it('an unsealed memfd is refused: the message says why (SIGBUS) and what to do', async () => {
    const m = MemfdGuestMemory.create({ name: MEMFD, regions: [{ guestPhysAddr: 0, size: MiB }], seal: false });
    try {
      const { reason } = await setMemTable(path, m.layout.regions[0]!.fd, MiB);
      expect(reason?.message).toMatch(
        /SET_MEM_TABLE rejected: the fd of region 0 is a memfd without F_SEAL_SHRINK \(seals 0x1\).*SIGBUS.*seal=on.*--allow-unsealed-memory/,
      );
      expect(server.connected).toBe(false);
      expect(fdCount.memfdMappings(MEMFD)).toBe(1); // ours only: the server mapped nothing
    } finally {
      m.close();
    }
  });

  it('a memfd shrunk below the region is refused before anything is mapped', async () => {
    const m = MemfdGuestMemory.create({ name: MEMFD, regions: [{ guestPhysAddr: 0, size: MiB }], seal: false });
    try {
      ftruncateSync(m.layout.regions[0]!.fd, 4096);
      const { reason } = await setMemTable(path, m.layout.regions[0]!.fd, MiB);
      expect(reason?.message).toMatch(/SET_MEM_TABLE rejected: region 0 .*too small: its fd holds 4096 bytes/);
    } finally {
      m.close();
    }
  });

  it('a plain file (cannot be sealed) is refused; a character device is refused as not a file', async () => {
    const file = join(dir, 'ram');
    writeFileSync(file, '');
    const fd = openSync(file, 'r+');
    try {
      ftruncateSync(fd, MiB);
      const { reason } = await setMemTable(path, fd, MiB);
      expect(reason?.message).toMatch(/the fd of region 0 is not a sealable memfd.*--allow-unsealed-memory/);
    } finally {
      closeSync(fd);
    }
    const dev = openSync('/dev/null', 'r');
    try {
      const { reason } = await setMemTable(path, dev, MiB);
      expect(reason?.message).toMatch(/the fd of region 0 is not a memfd or regular file \(fstat st_mode 0o20/);
    } finally {
      closeSync(dev);
    }
  });

  it('then a frontend with sealed memory (what QEMU sends) is mapped, and nothing leaked', async () => {
    const m = MemfdGuestMemory.create({ name: MEMFD, regions: [{ guestPhysAddr: 0, size: MiB }] });
    try {
      const { reason, ack } = await setMemTable(path, m.layout.regions[0]!.fd, MiB);
      expect(ack).toBe(0n);
      expect(reason).toBeUndefined();
    } finally {
      m.close();
    }
    expect(fdCount.memfdMappings(MEMFD)).toBe(0);
    expect(fdCount.fds()).toBe(fds0);
  });

  it('with allowUnsealedMemory the operator accepts an unsealed memfd', async () => {
    const p2 = join(dir, 'dev2.sock');
    const lenient = VhostUserDeviceServer.open({ socket: p2, tap: uniqueName('vudm'), allowUnsealedMemory: true });
    lenient.events.on('disconnected', (r) => reasons.push(r));
    lenient.start();
    const m = MemfdGuestMemory.create({ name: MEMFD, regions: [{ guestPhysAddr: 0, size: MiB }], seal: false });
    try {
      const { reason, ack } = await setMemTable(p2, m.layout.regions[0]!.fd, MiB);
      expect(ack).toBe(0n);
      expect(reason).toBeUndefined();
    } finally {
      m.close();
      await lenient.close();
    }
  });
});
