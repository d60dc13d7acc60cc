import { VnicError } from '@vnic/core';
import { describe, expect, it } from 'vitest';
import { checkSys } from './checkSys.ts';
import { closeFd } from './fd/closeFd.ts';
import { openFd } from './fd/openFd.ts';
import { errnoDescription, errnoName } from './linux/errno.ts';
import { SysError } from './SysError.ts';

describe('errno names', () => {
  it('maps common Linux errnos to names and descriptions', () => {
    expect(errnoName(1)).toBe('EPERM');
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoName(11)).toBe('EAGAIN');
    expect(errnoName(16)).toBe('EBUSY');
    expect(errnoName(19)).toBe('ENODEV');
    expect(errnoName(22)).toBe('EINVAL');
    expect(errnoName(77)).toBe('EBADFD');
    expect(errnoName(111)).toBe('ECONNREFUSED');
    expect(errnoName(4242)).toBe('E4242');
    expect(errnoDescription(2)).toBe('no such file or directory');
  });
});

describe('SysError', () => {
  it('formats syscall, target, code, errno and the EPERM hint', () => {
    const e = new SysError({ syscall: 'open', errno: 1, target: '/dev/net/tun' });
    expect(e.message).toBe('open /dev/net/tun: EPERM (1) — run as root or grant CAP_NET_ADMIN');
    expect(e.kind).toBe('sys');
    expect(e.code).toBe('EPERM');
    expect(e.name).toBe('SysError');
    expect(e).toBeInstanceOf(VnicError);
    expect(VnicError.is(e)).toBe(true);
    expect(SysError.is(e)).toBe(true);
    expect(SysError.is(new VnicError('sys', 'x'))).toBe(false);
  });

  it('names the ioctl request and gives hints for EBUSY, ENOENT, EINVAL, ENODEV, EACCES', () => {
    const busy = new SysError({ syscall: 'ioctl', request: 'TUNSETIFF', errno: 16, target: 'vt0' });
    expect(busy.message).toMatch(/^ioctl TUNSETIFF vt0: EBUSY \(16\) — vt0 is in use by another process/);
    expect(busy.request).toBe('TUNSETIFF');
    expect(new SysError({ syscall: 'open', errno: 2, target: '/dev/x' }).hint).toMatch(/\/dev\/x not found: load the module .* check the path/);
    expect(new SysError({ syscall: 'open', errno: 2, target: '/run/x.json' }).hint).toBe('/run/x.json not found: check the path');
    expect(new SysError({ syscall: 'ioctl', errno: 22 }).hint).toMatch(/rejected an argument/);
    expect(new SysError({ syscall: 'ioctl', errno: 19, target: 'eth9' }).hint).toMatch(/no such device eth9: .*network namespace/);
    expect(new SysError({ syscall: 'open', errno: 13, target: '/x' }).hint).toMatch(/permission denied on \/x/);
    expect(new SysError({ syscall: 'read', errno: 5 }).message).toBe('read: EIO (5) — I/O error');
  });

  it('gives EPERM, EACCES and ENODEV hints that match the call, not one for every EPERM', () => {
    expect(new SysError({ syscall: 'ioctl', request: 'TUNSETIFF', errno: 1, target: 'vt0' }).hint).toBe('run as root or grant CAP_NET_ADMIN');
    const epoll = new SysError({ syscall: 'epoll_ctl', request: 'EPOLL_CTL_ADD', errno: 1, target: 'fd 7' });
    expect(epoll.hint).toMatch(/^fd 7 cannot be watched by epoll .*pass a pollable fd/);
    expect(epoll.message).not.toMatch(/CAP_NET_ADMIN/);
    const seal = new SysError({ syscall: 'mmap', errno: 1, target: 'region 0' });
    expect(seal.hint).toMatch(/seals of region 0 forbid this mapping/);
    expect(seal.message).not.toMatch(/CAP_NET_ADMIN/);
    expect(new SysError({ syscall: 'mmap', errno: 19, target: 'fd 9' }).hint).toMatch(/^fd 9 cannot be mapped \(a pipe, socket or eventfd\)/);
    expect(new SysError({ syscall: 'mmap', errno: 13 }).hint).toMatch(/not open for reading/);
    expect(new SysError({ syscall: 'write', errno: 1 }).hint).not.toMatch(/CAP_NET_ADMIN/);
  });

  it('keeps an explicit hint and the cause', () => {
    const cause = new Error('inner');
    const e = new SysError({ syscall: 'ioctl', request: 'TUNSETOFFLOAD', errno: 22, target: 'vt1', hint: 'try fewer bits', cause });
    expect(e.message).toBe('ioctl TUNSETOFFLOAD vt1: EINVAL (22) — try fewer bits');
    expect(e.cause).toBe(cause);
  });
});

describe('errno from real calls', () => {
  it('opening a nonexistent path gives ENOENT with the path and a hint', () => {
    const path = '/nonexistent-vnic-dir/device';
    let caught: unknown;
    try {
      const fd = openFd(path);
      closeFd(fd);
    } catch (e) {
      caught = e;
    }
    expect(SysError.is(caught)).toBe(true);
    const e = caught as SysError;
    expect(e.code).toBe('ENOENT');
    expect(e.errno).toBe(2);
    expect(e.syscall).toBe('open');
    expect(e.target).toBe(path);
    expect(e.message).toBe(`open ${path}: ENOENT (2) — ${path} not found: check the path`);
  });

  it('checkSys passes values through and turns -1 into the errno of the call', () => {
    expect(checkSys(0, 'close')).toBe(0);
    expect(checkSys(17, 'open')).toBe(17);
    expect(() => closeFd(-1)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'close', errno: 9 }));
  });
});
