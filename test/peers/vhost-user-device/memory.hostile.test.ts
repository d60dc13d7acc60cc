import { MemfdGuestMemory } from '@vnic/sys';
import {
  decodeHeader,
  decodeU64,
  encodeU64,
  FrontendReq,
  VHOST_USER_HDR_SIZE,
  VHOST_USER_NEED_REPLY_MASK,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
} from '@vnic/vhost-user-protocol';
import { openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fdCount } from '@vnic/sys/testing';
import { hostileServer, hostileTestsRun, memTable, send } from './hostileServer.ts';

// A frontend whose guest memory could shrink under the server: an unsealed memfd, a memfd shrunk
// after it was created, a plain file, a pipe. The first three would let a frontend kill the server
// with SIGBUS (ftruncate after SET_MEM_TABLE); each is refused with the reason and what to do, the
// server lives on and serves a well-behaved frontend (sealed memfd), and nothing leaks. A second
// server started with allowUnsealedMemory maps the unsealed memfd.

const root = hostileTestsRun('vhost-user device memory');

const MEMFD = 'vnic-memhostile';
const MiB = 1 << 20;

describe.skipIf(!root)('vhost-user device: guest memory a frontend could shrink', () => {
  const h = hostileServer('vudm');
  const table = (size: number): Uint8Array => memTable([{ gpa: 0, size, user: 0x7000_0000n }]);

  async function setMemTable(sockPath: string, fd: number, size: number): Promise<{ reason: Error | undefined; ack: bigint | undefined }> {
    let ack: bigint | undefined;
    const reason = await h.session(async (s) => {
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
    }, sockPath);
    return { reason, ack };
  }

  it('an unsealed memfd is refused: the message says why (SIGBUS) and what to do', async () => {
    const m = MemfdGuestMemory.create({ name: MEMFD, regions: [{ guestPhysAddr: 0, size: MiB }], seal: false });
    try {
      const { reason } = await setMemTable(h.path, m.layout.regions[0]!.fd, MiB);
      expect(reason?.message).toMatch(
        /SET_MEM_TABLE rejected: the fd of region 0 is a memfd without F_SEAL_SHRINK \(seals 0x1\).*SIGBUS.*seal=on.*--allow-unsealed-memory/,
      );
      expect(h.server.connected).toBe(false);
      expect(fdCount.memfdMappings(MEMFD)).toBe(1); // ours only: the server mapped nothing
    } finally {
      m.close();
    }
  });

  it('a memfd shrunk below the region is refused before anything is mapped', async () => {
    const m = MemfdGuestMemory.create({ name: MEMFD, regions: [{ guestPhysAddr: 0, size: MiB }], seal: false });
    try {
      ftruncateSync(m.layout.regions[0]!.fd, 4096);
      const { reason } = await setMemTable(h.path, m.layout.regions[0]!.fd, MiB);
      expect(reason?.message).toMatch(/SET_MEM_TABLE rejected: region 0 .*too small: its fd holds 4096 bytes/);
    } finally {
      m.close();
    }
  });

  it('a plain file (cannot be sealed) is refused; a character device is refused as not a file', async () => {
    const file = join(h.dir, 'ram');
    writeFileSync(file, '');
    const fd = openSync(file, 'r+');
    try {
      ftruncateSync(fd, MiB);
      const { reason } = await setMemTable(h.path, fd, MiB);
      expect(reason?.message).toMatch(/the fd of region 0 is not a sealable memfd.*--allow-unsealed-memory/);
    } finally {
      closeSync(fd);
    }
    const dev = openSync('/dev/null', 'r');
    try {
      const { reason } = await setMemTable(h.path, dev, MiB);
      expect(reason?.message).toMatch(/the fd of region 0 is not a memfd or regular file \(fstat st_mode 0o20/);
    } finally {
      closeSync(dev);
    }
  });

  it('then a frontend with sealed memory (what QEMU sends) is mapped, and nothing leaked', async () => {
    const m = MemfdGuestMemory.create({ name: MEMFD, regions: [{ guestPhysAddr: 0, size: MiB }] });
    try {
      const { reason, ack } = await setMemTable(h.path, m.layout.regions[0]!.fd, MiB);
      expect(ack).toBe(0n);
      expect(reason).toBeUndefined();
    } finally {
      m.close();
    }
    expect(fdCount.memfdMappings(MEMFD)).toBe(0);
    expect(fdCount.fds()).toBe(h.fds0);
  });

  it('with allowUnsealedMemory the operator accepts an unsealed memfd', async () => {
    const lenient = h.extra('dev2.sock', { allowUnsealedMemory: true });
    const m = MemfdGuestMemory.create({ name: MEMFD, regions: [{ guestPhysAddr: 0, size: MiB }], seal: false });
    try {
      const { reason, ack } = await setMemTable(lenient.socket, m.layout.regions[0]!.fd, MiB);
      expect(ack).toBe(0n);
      expect(reason).toBeUndefined();
    } finally {
      m.close();
      await lenient.close();
    }
  });
});
