import { closeFd, MemfdGuestMemory, socketpair, type UnixSocket } from '@vnic/sys';
import {
  decodeHeader,
  decodeU64,
  encodeLog,
  encodeU64,
  encodeVringAddr,
  encodeVringState,
  FrontendReq,
  VHOST_F_LOG_ALL,
  VHOST_USER_HDR_SIZE,
  VHOST_USER_PROTOCOL_F_LOG_SHMFD,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_REPLY_MASK,
} from '@vnic/vhost-user-protocol';
import { describe, expect, it } from 'vitest';
import { fdCount } from '@vnic/sys/testing';
import { hostileServer, hostileTestsRun, memTable, send, type TestRegion } from './hostileServer.ts';

// The dirty log of a live migration as a hostile frontend hands it to a real VhostUserDeviceServer
// (real tap, real memfds by SCM_RIGHTS): SET_LOG_BASE on a session that did not ack LOG_SHMFD, a
// bad fd, a log too small for the memory table or ending past its fd, an unsealed log, a
// used-ring log address that is not the used ring, a memory table that outgrows
// the log: each ends its connection with an error naming the request and the problem, the server
// lives on. A well-behaved frontend gets its log mapped (one mapping), released on LOG_ALL off,
// on a new SET_LOG_BASE and on disconnect, with exact fd and mapping counts.

const root = hostileTestsRun('vhost-user device dirty log');

const MEMFD = 'vnic-dl-ram';
const LOGFD = 'vnic-dl-log';
const MiB = 1 << 20;
const LOG_SHMFD = 1n << BigInt(VHOST_USER_PROTOCOL_F_LOG_SHMFD);
const REPLY_ACK = 1n << BigInt(VHOST_USER_PROTOCOL_F_REPLY_ACK);
const F = (1n << 32n) | (1n << 30n); // VERSION_1 | VHOST_USER_F_PROTOCOL_FEATURES
const LOG_ALL = 1n << BigInt(VHOST_F_LOG_ALL);

describe.skipIf(!root)('vhost-user device: the dirty log against a hostile frontend', () => {
  const h = hostileServer('vudl', { handshakeTimeoutMs: 1000 });
  const session = h.session;

  /** One memfd per size (the first at gpa 0, then every 256 MiB), `seal` as asked; closed after `use`. */
  function withMemfds<T>(name: string, sizes: number[], use: (fds: number[]) => T, seal = true): T {
    const m = MemfdGuestMemory.create({ name, seal, regions: sizes.map((size, i) => ({ guestPhysAddr: i * 0x1000_0000, size })) });
    try {
      return use(m.layout.regions.map((r) => r.fd));
    } finally {
      m.close();
    }
  }

  function sendMemTable(s: UnixSocket, regions: readonly TestRegion[]): void {
    withMemfds(
      MEMFD,
      regions.map((r) => r.size),
      (fds) => send(s, FrontendReq.SET_MEM_TABLE, memTable(regions), fds),
    );
  }

  function sendLog(s: UnixSocket, fdBytes: number, size: number, offset = 0, seal = true): void {
    withMemfds(LOGFD, [fdBytes], (fds) => send(s, FrontendReq.SET_LOG_BASE, encodeLog({ mmapSize: BigInt(size), mmapOffset: BigInt(offset) }), fds), seal);
  }

  async function reply(sock: UnixSocket, request: number): Promise<bigint> {
    const { data } = await sock.recvAsync(VHOST_USER_HDR_SIZE + 8);
    const hd = decodeHeader(data);
    expect(hd.request).toBe(request);
    expect(hd.flags & VHOST_USER_REPLY_MASK).not.toBe(0);
    expect(hd.size).toBe(8);
    return decodeU64(data.subarray(VHOST_USER_HDR_SIZE));
  }

  const logShmfd = (s: UnixSocket): void => {
    send(s, FrontendReq.SET_PROTOCOL_FEATURES, encodeU64(LOG_SHMFD));
    send(s, FrontendReq.SET_OWNER);
  };
  // 1 MiB at 0 needs 32 bytes of log (256 pages); 1 MiB at 256 MiB needs 8224.
  const oneMiB: TestRegion[] = [{ gpa: 0, size: MiB, user: 0x7000_0000n }];

  const cases: [string, RegExp, (sock: UnixSocket) => void | Promise<void>][] = [
    [
      'SET_LOG_BASE on a session that did not ack LOG_SHMFD',
      /SET_LOG_BASE: protocol feature LOG_SHMFD was not acked .*: vnic takes the dirty log as shared memory only/,
      (s) => {
        send(s, FrontendReq.SET_OWNER);
        sendLog(s, 4096, 4096);
      },
    ],
    [
      'SET_LOG_BASE without an fd',
      /SET_LOG_BASE: 0 fd\(s\) attached; expected exactly one \(the log memory\)/,
      (s) => {
        logShmfd(s);
        send(s, FrontendReq.SET_LOG_BASE, encodeLog({ mmapSize: 4096n, mmapOffset: 0n }));
      },
    ],
    [
      'SET_LOG_BASE with a socket as the log fd',
      /SET_LOG_BASE rejected: the log fd is not a memfd or regular file/,
      (s) => {
        logShmfd(s);
        const [a, b] = socketpair();
        try {
          send(s, FrontendReq.SET_LOG_BASE, encodeLog({ mmapSize: 4096n, mmapOffset: 0n }), [a]);
        } finally {
          closeFd(a);
          closeFd(b);
        }
      },
    ],
    [
      'SET_LOG_BASE with a 4-byte payload',
      /SET_LOG_BASE: vhost-user log description: payload is 4 bytes, expected 16/,
      (s) => {
        logShmfd(s);
        withMemfds(LOGFD, [4096], (fds) => send(s, FrontendReq.SET_LOG_BASE, new Uint8Array(4), fds));
      },
    ],
    [
      'a log too small for the memory table',
      /SET_LOG_BASE rejected: a log of 4096 bytes covers guest-physical addresses below 0x8000000, but the memory table reaches 0x10100000 \(8224 bytes of log needed\)/,
      (s) => {
        logShmfd(s);
        sendMemTable(s, [{ gpa: 0x1000_0000, size: MiB, user: 0x7000_0000n }]);
        sendLog(s, 4096, 4096);
      },
    ],
    [
      'a log that ends past the end of its fd',
      /SET_LOG_BASE rejected: the log \(mmap_offset 4096, mmap_size 4096\) ends past the end of its fd \(4096 bytes\)/,
      (s) => {
        logShmfd(s);
        sendLog(s, 4096, 4096, 4096);
      },
    ],
    [
      'a log of 0 bytes',
      /SET_LOG_BASE rejected: log mmap_size 0 is not in 1\.\./,
      (s) => {
        logShmfd(s);
        sendLog(s, 4096, 0);
      },
    ],
    [
      'an unsealed log memfd',
      /SET_LOG_BASE rejected: the log fd is a memfd without F_SEAL_SHRINK/,
      (s) => {
        logShmfd(s);
        sendLog(s, 4096, 4096, 0, false);
      },
    ],
    [
      'VHOST_VRING_F_LOG with a log_guest_addr that is not the used ring',
      /SET_VRING_ADDR: vring 0 asks for used-ring logging at log_guest_addr 0x5000, but its used ring is at guest-physical 0x2000/,
      (s) => {
        logShmfd(s);
        send(s, FrontendReq.SET_FEATURES, encodeU64(F));
        sendMemTable(s, oneMiB);
        sendLog(s, 4096, 4096);
        send(s, FrontendReq.SET_VRING_NUM, encodeVringState({ index: 0, num: 256 }));
        send(
          s,
          FrontendReq.SET_VRING_ADDR,
          encodeVringAddr(0, { flags: 1, descUserAddr: 0x7000_0000n, availUserAddr: 0x7000_1000n, usedUserAddr: 0x7000_2000n, logGuestAddr: 0x5000n }),
        );
      },
    ],
    [
      'a memory table that outgrows the mapped log',
      /SET_MEM_TABLE rejected: the memory table reaches 0x10100000 but the dirty log \(32 bytes\) covers addresses below 0x100000: send a larger SET_LOG_BASE first/,
      (s) => {
        logShmfd(s);
        sendMemTable(s, oneMiB);
        sendLog(s, 4096, 32);
        sendMemTable(s, [{ gpa: 0x1000_0000, size: MiB, user: 0x7000_0000n }]);
      },
    ],
  ];

  for (const [what, error, talk] of cases) {
    it(`${what}: connection dropped with a clear error, the server lives, nothing mapped`, async () => {
      const reason = await session(talk);
      expect(reason?.message).toMatch(error);
      expect(reason?.message).toContain(`vhost-user ${h.path}`);
      expect(h.server.connected).toBe(false);
      expect(fdCount.memfdMappings(LOGFD)).toBe(0);
      expect(fdCount.memfdMappings(MEMFD)).toBe(0);
      expect(fdCount.fds()).toBe(h.fds0);
    });
  }

  it('a well-behaved frontend: the log is mapped once, replaced by a new SET_LOG_BASE, released on LOG_ALL off and on disconnect (exact counts)', async () => {
    const logs: boolean[] = [];
    const off = h.server.events.on('dirty-log', ({ logging }) => logs.push(logging));
    try {
      const reason = await session(async (s) => {
        send(s, FrontendReq.SET_PROTOCOL_FEATURES, encodeU64(LOG_SHMFD | REPLY_ACK));
        send(s, FrontendReq.SET_OWNER);
        send(s, FrontendReq.SET_FEATURES, encodeU64(F));
        sendMemTable(s, oneMiB);
        for (let round = 0; round < 20; round++) {
          // QEMU's order: SET_LOG_BASE (answered by its own reply), then SET_FEATURES with LOG_ALL.
          sendLog(s, 4096, 4096);
          expect(await reply(s, FrontendReq.SET_LOG_BASE)).toBe(0n);
          expect(fdCount.memfdMappings(LOGFD)).toBe(1);
          sendLog(s, 8192, 8192); // a resize: the old log is released, the new one mapped
          expect(await reply(s, FrontendReq.SET_LOG_BASE)).toBe(0n);
          expect(fdCount.memfdMappings(LOGFD)).toBe(1);
          send(s, FrontendReq.SET_FEATURES, encodeU64(F | LOG_ALL), [], 8);
          expect(await reply(s, FrontendReq.SET_FEATURES)).toBe(0n);
          expect(fdCount.memfdMappings(LOGFD)).toBe(1);
          send(s, FrontendReq.SET_FEATURES, encodeU64(F), [], 8);
          expect(await reply(s, FrontendReq.SET_FEATURES)).toBe(0n);
          expect(fdCount.memfdMappings(LOGFD)).toBe(0); // logging ended: unmapped
        }
        // QEMU's order when a device starts while logging: LOG_ALL first, the log after it.
        send(s, FrontendReq.SET_FEATURES, encodeU64(F | LOG_ALL), [], 8);
        expect(await reply(s, FrontendReq.SET_FEATURES)).toBe(0n);
        expect(logs.at(-1)).toBe(false);
        sendLog(s, 4096, 4096);
        expect(await reply(s, FrontendReq.SET_LOG_BASE)).toBe(0n);
        expect(logs.at(-1)).toBe(true);
        expect(fdCount.memfdMappings(LOGFD)).toBe(1);
        expect(fdCount.memfdMappings(MEMFD)).toBe(1);
        s.close(); // disconnect while a log is mapped
      });
      expect(reason).toBeUndefined();
    } finally {
      off();
    }
    expect(logs.filter((l) => l).length).toBe(21);
    expect(fdCount.memfdMappings(LOGFD)).toBe(0);
    expect(fdCount.memfdMappings(MEMFD)).toBe(0);
    expect(fdCount.fds()).toBe(h.fds0);
  });
});
