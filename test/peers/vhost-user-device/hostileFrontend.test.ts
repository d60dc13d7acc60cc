import { closeFd, EventFd, MemfdGuestMemory, socketpair, SysError, UnixSocket } from '@vnic/sys';
import { VHOST_USER_DEVICE_PROTOCOL_FEATURES } from '@vnic/vhost-user-device';
import {
  decodeU64,
  encodeMessage,
  encodeU64,
  encodeVringAddr,
  encodeVringState,
  FrontendReq,
  VHOST_USER_HDR_SIZE,
  VHOST_USER_NEED_REPLY_MASK,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_REPLY_MASK,
  VHOST_USER_VRING_NOFD_MASK,
} from '@vnic/vhost-user-protocol';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fdCount } from '@vnic/sys/testing';
import { hostileServer, hostileTestsRun, reply, memTable, send, type TestRegion } from './hostileServer.ts';

// A hostile vhost-user frontend written here, against a real VhostUserDeviceServer (real tap, real
// memfds passed by SCM_RIGHTS): every malformed message ends its connection with an error naming
// the request and the expected shape; the server lives on and serves the next connection; nothing
// leaks (fds, mappings).

const root = hostileTestsRun('vhost-user device');

const MEMFD = 'vnic-hostile';
const MiB = 1 << 20;

describe.skipIf(!root)('vhost-user device: a hostile frontend', () => {
  const h = hostileServer('vudh', { handshakeTimeoutMs: 1000 });
  const session = h.session;

  function withMemory<T>(sizes: number[], use: (fds: number[]) => T): T {
    const m = MemfdGuestMemory.create({ name: MEMFD, regions: sizes.map((size, i) => ({ guestPhysAddr: i * 0x1000_0000, size })) });
    try {
      return use(m.layout.regions.map((r) => r.fd));
    } finally {
      m.close();
    }
  }

  /** SET_MEM_TABLE of `regions` with the fds of fresh memfds of `sizes` (closed again once sent). */
  function sendMemTable(s: UnixSocket, sizes: number[], regions: readonly TestRegion[], flags = 0): void {
    withMemory(sizes, (fds) => send(s, FrontendReq.SET_MEM_TABLE, memTable(regions), fds, flags));
  }

  /** A 1 MiB memory table at frontend address 0x7000_0000, then vring `index` (size 256) at the given frontend addresses. */
  function vringAt(s: UnixSocket, index: number, at: { desc: bigint; avail: bigint; used: bigint }): void {
    withMemory([MiB], (fds) => {
      send(s, FrontendReq.SET_MEM_TABLE, memTable([{ gpa: 0, size: MiB, user: 0x7000_0000n }]), fds);
      send(s, FrontendReq.SET_VRING_NUM, encodeVringState({ index, num: 256 }));
      send(
        s,
        FrontendReq.SET_VRING_ADDR,
        encodeVringAddr(index, { flags: 0, descUserAddr: at.desc, usedUserAddr: at.used, availUserAddr: at.avail, logGuestAddr: 0n }),
      );
    });
  }

  const cases: [string, RegExp, (sock: UnixSocket) => void | Promise<void>][] = [
    [
      'a header announcing 64 KiB of payload',
      /GET_FEATURES: the header announces 65536 payload bytes; at most 4096 are allowed/,
      (s) => s.send(Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0])),
    ],
    [
      'SET_VRING_NUM with a 4-byte payload',
      /SET_VRING_NUM: vhost-user vring state: payload is 4 bytes, expected 8/,
      (s) => send(s, FrontendReq.SET_VRING_NUM, new Uint8Array(4)),
    ],
    [
      'GET_FEATURES with an fd attached',
      /GET_FEATURES: 1 fd\(s\) attached; this request carries none/,
      (s) => withMemory([MiB], (fds) => send(s, FrontendReq.GET_FEATURES, undefined, fds)),
    ],
    [
      'SET_MEM_TABLE with overlapping regions',
      /SET_MEM_TABLE rejected: region 1 \(guest 0x80000\+0x100000.*overlaps region 0 .* in guest-physical space/,
      (s) =>
        sendMemTable(
          s,
          [MiB, MiB],
          [
            { gpa: 0, size: MiB, user: 0x7000_0000n },
            { gpa: 0x8_0000, size: MiB, user: 0x9000_0000n },
          ],
        ),
    ],
    [
      'SET_MEM_TABLE with regions overlapping in frontend virtual space',
      /overlaps region 0 .* in frontend virtual space/,
      (s) =>
        sendMemTable(
          s,
          [MiB, MiB],
          [
            { gpa: 0, size: MiB, user: 0x7000_0000n },
            { gpa: 0x1000_0000, size: MiB, user: 0x7008_0000n },
          ],
        ),
    ],
    [
      'SET_MEM_TABLE with a region larger than its memfd',
      /SET_MEM_TABLE rejected: region 0 .*too small: its fd holds 1048576 bytes, the region needs mmap_offset \+ memory_size = 2097152/,
      (s) => sendMemTable(s, [MiB], [{ gpa: 0, size: 2 * MiB, user: 0x7000_0000n }]),
    ],
    [
      'SET_MEM_TABLE with a region past the end of its memfd (mmap_offset)',
      /too small/,
      (s) => sendMemTable(s, [MiB], [{ gpa: 0, size: MiB, user: 0x7000_0000n, offset: 4096 }]),
    ],
    [
      'SET_MEM_TABLE with two regions and one fd',
      /2 region\(s\) but 1 fd\(s\) attached/,
      (s) =>
        sendMemTable(
          s,
          [MiB],
          [
            { gpa: 0, size: 4096, user: 0x7000_0000n },
            { gpa: 0x10_0000, size: 4096, user: 0x9000_0000n },
          ],
        ),
    ],
    [
      'SET_VRING_ADDR outside the memory table',
      /SET_VRING_ADDR: vring 0 descriptor table at frontend address 0x90000000 \(4096 bytes for size 256\) is not inside one SET_MEM_TABLE region/,
      (s) => vringAt(s, 0, { desc: 0x9000_0000n, avail: 0x7000_1000n, used: 0x7000_2000n }),
    ],
    [
      'SET_VRING_ADDR whose used ring runs past the end of its region',
      /used ring at frontend address 0x700ffff0/,
      (s) => vringAt(s, 1, { desc: 0x7000_0000n, avail: 0x7000_1000n, used: 0x700f_fff0n }),
    ],
    [
      'SET_VRING_NUM that is not a power of two',
      /vring 0 size 100 is not a power of two in 1\.\.32768/,
      (s) => send(s, FrontendReq.SET_VRING_NUM, encodeVringState({ index: 0, num: 100 })),
    ],
    [
      'a vring index past the queue pairs',
      /SET_VRING_NUM: vring index 7 is out of range; this device has 2 vrings/,
      (s) => send(s, FrontendReq.SET_VRING_NUM, encodeVringState({ index: 7, num: 256 })),
    ],
    [
      'SET_VRING_KICK with NOFD',
      /SET_VRING_KICK: vring 0 without a kick fd \(NOFD\)/,
      (s) => send(s, FrontendReq.SET_VRING_KICK, encodeU64(BigInt(VHOST_USER_VRING_NOFD_MASK))),
    ],
    [
      'SET_VRING_CALL without NOFD and without an fd',
      /SET_VRING_CALL: u64 0x0 with 0 fd\(s\); expected .*exactly one eventfd/,
      (s) => send(s, FrontendReq.SET_VRING_CALL, encodeU64(0n)),
    ],
    [
      'SET_VRING_KICK with a regular file instead of an eventfd',
      /SET_VRING_KICK: vring 0: the fd is \/.*kick-file, not an eventfd; vnic waits on and signals eventfds only/,
      (s) => {
        const file = join(h.dir, 'kick-file');
        writeFileSync(file, 'not an eventfd');
        const fd = openSync(file, 'r');
        try {
          send(s, FrontendReq.SET_VRING_KICK, encodeU64(0n), [fd]);
        } finally {
          closeSync(fd);
        }
      },
    ],
    [
      'SET_VRING_CALL with a socket whose peer closed instead of an eventfd',
      /SET_VRING_CALL: vring 1: the fd is socket:\[\d+\], not an eventfd/,
      (s) => {
        const [a, b] = socketpair();
        closeFd(a);
        try {
          send(s, FrontendReq.SET_VRING_CALL, encodeU64(1n), [b]);
        } finally {
          closeFd(b);
        }
      },
    ],
    [
      'SET_FEATURES with bits never offered',
      /SET_FEATURES: features 0x.* include 0x.*, which GET_FEATURES .* did not offer/,
      (s) => send(s, FrontendReq.SET_FEATURES, encodeU64(1n << 63n)),
    ],
    [
      'SET_FEATURES breaking a feature dependency (HOST_TSO4 without CSUM)',
      /SET_FEATURES: features 0x.* break a virtio-net feature dependency: VIRTIO_NET_F_HOST_TSO4 requires VIRTIO_NET_F_CSUM/,
      (s) => {
        expect(h.server.features & (1n << 11n)).not.toBe(0n); // the tap here offers TSO
        send(s, FrontendReq.SET_FEATURES, encodeU64((1n << 32n) | (1n << 11n)));
      },
    ],
    ['SET_FEATURES without VERSION_1', /lack VIRTIO_F_VERSION_1/, (s) => send(s, FrontendReq.SET_FEATURES, encodeU64(0n))],
    [
      'SET_PROTOCOL_FEATURES with bits never offered',
      /SET_PROTOCOL_FEATURES: protocol features 0x.* which were not offered/,
      (s) => send(s, FrontendReq.SET_PROTOCOL_FEATURES, encodeU64(1n << 12n)),
    ],
    ['an unknown request', /request 99: not supported by vnic's vhost-user device/, (s) => send(s, 99)],
    [
      'a reply sent as a request',
      /GET_FEATURES: a frontend request has the REPLY flag set/,
      (s) => send(s, FrontendReq.GET_FEATURES, undefined, [], VHOST_USER_REPLY_MASK),
    ],
    [
      'requests whose replies are never read',
      /GET_FEATURES: sending the reply failed: the socket buffer is full: the frontend does not read its replies/,
      async (s) => {
        // ~20 bytes of reply each, never read: far more than a unix socket buffer holds. The server
        // shares this thread, so the test must not block in send either.
        const burst = new Uint8Array(Array.from({ length: 1000 }, () => [...encodeMessage(FrontendReq.GET_FEATURES)]).flat());
        for (let i = 0; i < 1000; i++) {
          try {
            s.send(burst, [], true);
          } catch (e) {
            if (!(SysError.is(e) && e.code === 'EAGAIN')) return; // EPIPE/ECONNRESET: the server dropped us
            await new Promise((r) => setTimeout(r, 1));
          }
        }
      },
    ],
    [
      'end of stream in the middle of a header',
      /a message header: the frontend closed the connection mid-message \(6 bytes received\)/,
      (s) => {
        s.send(Uint8Array.from([1, 0, 0, 0, 1, 0]));
        s.close();
      },
    ],
  ];

  for (const [what, error, talk] of cases) {
    it(`${what}: connection dropped with a clear error, the server lives`, async () => {
      const reason = await session(talk);
      expect(reason?.message).toMatch(error);
      expect(reason?.message).toContain(`vhost-user ${h.path}`);
      expect(h.server.connected).toBe(false);
    });
  }

  // Legal message orders (vhost-user.rst: the vring messages come in any order; a ring starts on
  // its kick fd and, with VHOST_USER_F_PROTOCOL_FEATURES, runs once enabled). Each sets up both
  // rings of pair 0 with BLOCKING eventfds (the server makes them non-blocking) in a different
  // order, waits for the IO thread, kicks, and disconnects: the server must stop the thread and
  // report a clean disconnect, never a TypeError.
  const F = (1n << 32n) | (1n << 30n); // VERSION_1 | VHOST_USER_F_PROTOCOL_FEATURES
  const ringAddr = (i: number) => ({
    flags: 0,
    descUserAddr: 0x7000_0000n + BigInt(i * 0x4000),
    availUserAddr: 0x7000_1000n + BigInt(i * 0x4000),
    usedUserAddr: 0x7000_2000n + BigInt(i * 0x4000),
    logGuestAddr: 0n,
  });
  type Step = 'features' | 'mem' | 'num' | 'base' | 'addr' | 'kick' | 'call' | 'enable';
  const orders: [string, Step[], { sharedKick?: boolean }][] = [
    ['ADDR before CALL (memory and size known: the addresses are checked at once)', ['features', 'mem', 'num', 'base', 'addr', 'call', 'kick', 'enable'], {}],
    ['CALL before NUM, memory last', ['features', 'call', 'num', 'addr', 'base', 'kick', 'enable', 'mem'], {}],
    ['ENABLE before KICK, features after the rings', ['mem', 'enable', 'num', 'base', 'addr', 'call', 'features', 'kick'], {}],
    ['one blocking eventfd shared as the kick of both rings', ['features', 'mem', 'num', 'base', 'addr', 'call', 'kick', 'enable'], { sharedKick: true }],
  ];
  // The first ring start adds the pooled IO thread (a worker keeps its own loop's fds for the
  // server's life): later connections are compared with the count after it.
  let fdsWarm: number | undefined;
  for (const [what, order, opts] of orders) {
    it(`legal order: ${what}: the rings start, a kick is served, the disconnect is clean`, async () => {
      if (fdsWarm === undefined) expect(fdCount.fds()).toBe(h.fds0); // the malformed cases left nothing
      const started: { rx: boolean; tx: boolean }[] = [];
      const onStarted = (i: { pair: number; rx: boolean; tx: boolean }): void => {
        started.push(i);
      };
      h.server.events.on('rings-started', onStarted);
      const kicks = opts.sharedKick === true ? [EventFd.create()] : [EventFd.create(), EventFd.create()];
      const calls = [EventFd.create(), EventFd.create()];
      try {
        const reason = await session(async (s) => {
          send(s, FrontendReq.SET_OWNER);
          for (const step of order) {
            for (const i of step === 'features' || step === 'mem' ? [0] : [0, 1]) {
              if (step === 'features') send(s, FrontendReq.SET_FEATURES, encodeU64(F));
              if (step === 'mem') sendMemTable(s, [MiB], [{ gpa: 0, size: MiB, user: 0x7000_0000n }]);
              if (step === 'num') send(s, FrontendReq.SET_VRING_NUM, encodeVringState({ index: i, num: 256 }));
              if (step === 'base') send(s, FrontendReq.SET_VRING_BASE, encodeVringState({ index: i, num: 0 }));
              if (step === 'addr') send(s, FrontendReq.SET_VRING_ADDR, encodeVringAddr(i, ringAddr(i)));
              if (step === 'kick') send(s, FrontendReq.SET_VRING_KICK, encodeU64(BigInt(i)), [kicks[i % kicks.length]!.fd]);
              if (step === 'call') send(s, FrontendReq.SET_VRING_CALL, encodeU64(BigInt(i)), [calls[i]!.fd]);
              if (step === 'enable') send(s, FrontendReq.SET_VRING_ENABLE, encodeVringState({ index: i, num: 1 }));
            }
          }
          const deadline = Date.now() + 5000;
          while (!started.some((x) => x.rx && x.tx)) {
            if (Date.now() > deadline) throw new Error(`the rings never started (events: ${JSON.stringify(started)}, connected: ${h.server.connected})`);
            await new Promise((r) => setTimeout(r, 5));
          }
          expect(fdCount.flags(kicks[0]!.fd) & 0o4000).toBe(0o4000); // O_NONBLOCK, set by the server on the shared open file
          for (const k of kicks) k.write(1n);
          for (const k of kicks) k.write(1n);
          s.close();
        });
        expect(reason).toBeUndefined();
      } finally {
        h.server.events.off('rings-started', onStarted);
        for (const e of [...kicks, ...calls]) e.close();
      }
      expect(fdCount.memfdMappings(MEMFD)).toBe(0);
      if (fdsWarm === undefined) fdsWarm = fdCount.fds();
      else expect(fdCount.fds()).toBe(fdsWarm);
    });
  }

  it('an idle connection that sends nothing is dropped after handshakeTimeoutMs with a clear error', async () => {
    const reason = await session(() => undefined);
    expect(reason?.message).toMatch(
      /no SET_OWNER within 1000 ms of connecting: the frontend is idle or too slow; dropped so that another frontend can be served/,
    );
  });

  it('a frontend that stops in the middle of a message is dropped after handshakeTimeoutMs', async () => {
    const reason = await session((s) => {
      send(s, FrontendReq.SET_OWNER);
      s.send(Uint8Array.from([1, 0, 0, 0, 1, 0]));
    });
    expect(reason?.message).toMatch(/a message did not arrive whole within 1000 ms of its first byte/);
  });

  it('a second frontend while one is served is refused at once (closed, with a refused event), the first is served on', async () => {
    const refused: string[] = [];
    const off = h.server.events.on('refused', (m) => refused.push(m));
    try {
      const reason = await session(async (s) => {
        send(s, FrontendReq.SET_OWNER);
        send(s, FrontendReq.GET_FEATURES);
        expect(decodeU64(await reply(s, FrontendReq.GET_FEATURES, 8))).toBe(h.server.features);
        const second = UnixSocket.connect(h.path);
        try {
          const { data } = await second.recvAsync(VHOST_USER_HDR_SIZE);
          expect(data.length).toBe(0); // closed by the server, not left waiting
        } finally {
          second.close();
        }
        expect(refused).toEqual([`vhost-user ${h.path}: refused a second frontend: one frontend is served at a time and one is connected`]);
        send(s, FrontendReq.GET_QUEUE_NUM);
        expect(decodeU64(await reply(s, FrontendReq.GET_QUEUE_NUM, 8))).toBe(1n);
        s.close();
      });
      expect(reason).toBeUndefined();
    } finally {
      off();
    }
  });

  it('after all of that a well-behaved frontend is served (GET_FEATURES, REPLY_ACK), and nothing leaked', async () => {
    const reason = await session(async (s) => {
      send(s, FrontendReq.GET_FEATURES);
      expect(decodeU64(await reply(s, FrontendReq.GET_FEATURES, 8))).toBe(h.server.features);
      send(s, FrontendReq.GET_PROTOCOL_FEATURES);
      expect(decodeU64(await reply(s, FrontendReq.GET_PROTOCOL_FEATURES, 8))).toBe(VHOST_USER_DEVICE_PROTOCOL_FEATURES);
      send(s, FrontendReq.SET_PROTOCOL_FEATURES, encodeU64(1n << BigInt(VHOST_USER_PROTOCOL_F_REPLY_ACK)));
      send(s, FrontendReq.SET_OWNER, undefined, [], VHOST_USER_NEED_REPLY_MASK);
      expect(decodeU64(await reply(s, FrontendReq.SET_OWNER, 8))).toBe(0n);
      // A good memory table is mapped, then unmapped at disconnect.
      sendMemTable(s, [MiB], [{ gpa: 0, size: MiB, user: 0x7000_0000n }], VHOST_USER_NEED_REPLY_MASK);
      expect(decodeU64(await reply(s, FrontendReq.SET_MEM_TABLE, 8))).toBe(0n);
      expect(fdCount.memfdMappings(MEMFD)).toBe(1);
      s.close();
    });
    expect(reason).toBeUndefined(); // a clean disconnect
    expect(fdCount.memfdMappings(MEMFD)).toBe(0);
    expect(fdCount.fds()).toBe(fdsWarm ?? h.fds0);
    expect(h.server.connectionCount).toBe(cases.length + orders.length + 4); // the refused one is not counted
  });
});
