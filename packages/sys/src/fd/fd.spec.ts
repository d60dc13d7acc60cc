import { afterEach, describe, expect, it } from 'vitest';
import { MemfdGuestMemory } from '../memory/MemfdGuestMemory.ts';
import { fdCount } from '../testing/fdCount.ts';
import { socketpair } from '../unix/socketpair.ts';
import { closeFd } from './closeFd.ts';
import { dupFd } from './dupFd.ts';
import { IoVecArray } from './IoVecArray.ts';
import { readFd } from './readFd.ts';
import { readvFd } from './readvFd.ts';
import { setNonBlocking } from './setNonBlocking.ts';
import { writeFd } from './writeFd.ts';
import { writevFd } from './writevFd.ts';

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

const open: number[] = [];
function pair(): [number, number] {
  const p = socketpair();
  open.push(...p);
  return p;
}
afterEach(() => {
  for (const fd of open.splice(0)) if (fdCount.isOpen(fd)) closeFd(fd);
});

describe('readFd / writeFd', () => {
  it('move bytes zero-copy, honouring subarray offsets', () => {
    const [a, b] = pair();
    const src = new Uint8Array(64).map((_, i) => i);
    expect(writeFd(a, src.subarray(10, 20))).toBe(10);
    const dst = new Uint8Array(32);
    expect(readFd(b, dst.subarray(5))).toBe(10);
    expect([...dst.subarray(5, 15)]).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(dst[4]).toBe(0);
    expect(dst[15]).toBe(0);
  });

  it('return -1 on EAGAIN for a non-blocking fd, and setNonBlocking toggles O_NONBLOCK', () => {
    const [a, b] = pair();
    expect(fdCount.flags(b) & O_CLOEXEC).toBe(O_CLOEXEC);
    setNonBlocking(b, true);
    expect(fdCount.flags(b) & O_NONBLOCK).toBe(O_NONBLOCK);
    expect(readFd(b, new Uint8Array(8))).toBe(-1);
    writeFd(a, new Uint8Array([7]));
    expect(readFd(b, new Uint8Array(8))).toBe(1);
    setNonBlocking(b, false);
    expect(fdCount.flags(b) & O_NONBLOCK).toBe(0);
  });

  it('return 0 at end of stream and throw a SysError on a bad fd', () => {
    const [a, b] = pair();
    closeFd(a);
    expect(readFd(b, new Uint8Array(4))).toBe(0);
    expect(() => readFd(a, new Uint8Array(4))).toThrow(expect.objectContaining({ syscall: 'read', code: 'EBADF' }));
    expect(() => writeFd(a, new Uint8Array(4))).toThrow(expect.objectContaining({ syscall: 'write', code: 'EBADF' }));
  });
});

describe('readvFd / writevFd with IoVecArray', () => {
  it('gather host-address and JS buffers into one write, scatter on read', () => {
    const mem = MemfdGuestMemory.create({ regions: [{ guestPhysAddr: 0x1000, size: 4096 }] });
    try {
      const [a, b] = pair();
      mem.memory.write(0x1100, new Uint8Array([1, 2, 3, 4]));
      const hostAddr = mem.memory.hostAddress(0x1100, 4)!;
      const iov = new IoVecArray(4);
      iov.pushBytes(new Uint8Array([0xaa, 0xbb]));
      iov.push(hostAddr, 4); // Number address
      iov.push(BigInt(hostAddr) + 2n, 2); // BigInt address: bytes 3, 4 again
      expect(iov.length).toBe(3);
      expect(iov.byteLength).toBe(8);
      expect(writevFd(a, iov)).toBe(8);

      iov.clear();
      expect(iov.length).toBe(0);
      const head = new Uint8Array(3);
      iov.pushBytes(head);
      iov.push(mem.memory.hostAddress(0x1800, 5)!, 5);
      expect(readvFd(b, iov)).toBe(8);
      expect([...head]).toEqual([0xaa, 0xbb, 1]);
      expect([...mem.memory.read(0x1800, 5)!]).toEqual([2, 3, 4, 3, 4]);
    } finally {
      mem.close();
    }
  });

  it('rejects a bad capacity and a push past capacity; returns -1 on EAGAIN', () => {
    expect(() => new IoVecArray(0)).toThrow(/capacity/);
    expect(() => new IoVecArray(1025)).toThrow(/capacity/);
    const iov = new IoVecArray(1);
    const buf = new Uint8Array(4);
    iov.pushBytes(buf);
    expect(() => iov.pushBytes(buf)).toThrow(/full/);
    const [, b] = pair();
    setNonBlocking(b, true);
    expect(readvFd(b, iov)).toBe(-1);
  });
});

describe('dupFd / closeFd', () => {
  it('dup shares the open file, with close-on-exec; closing twice is EBADF', () => {
    const [a, b] = pair();
    const d = dupFd(a);
    open.push(d);
    expect(d).not.toBe(a);
    expect(fdCount.flags(d) & O_CLOEXEC).toBe(O_CLOEXEC);
    writeFd(d, new Uint8Array([9]));
    closeFd(d);
    expect(fdCount.isOpen(d)).toBe(false);
    const out = new Uint8Array(1);
    expect(readFd(b, out)).toBe(1);
    expect(out[0]).toBe(9);
    expect(() => closeFd(d)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});
