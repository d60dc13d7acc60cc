import { existsSync } from 'node:fs';
import { thrownBy } from '@vnic/core/testing';
import { describe, expect, it } from 'vitest';
import { EventFd } from '../EventFd.ts';
import { SysError } from '../SysError.ts';
import { fdCount } from '../testing/fdCount.ts';
import { needsPeer } from '../testing/needsPeer.ts';
import { VhostNetFd } from './VhostNetFd.ts';

// The real ioctls run against the kernel's vhost_net inside a VM (test/vm/vhost-net); here: what
// does not need the module.

const thrown = (fn: () => unknown): SysError => thrownBy(SysError, fn);

describe('VhostNetFd without the vhost_net module', () => {
  it('says to load vhost_net when the device node is missing', () => {
    const e = thrown(() => VhostNetFd.open('/dev/vnic-no-such-vhost-net'));
    expect(e.syscall).toBe('open');
    expect(e.code).toBe('ENOENT');
    expect(e.message).toBe(
      'open /dev/vnic-no-such-vhost-net: ENOENT (2) — /dev/vnic-no-such-vhost-net not found: load the vhost_net module (modprobe vhost_net)',
    );
  });

  it.skipIf(needsPeer('VhostNetFd without vhost_net', existsSync('/dev/vhost-net') ? 'this host has /dev/vhost-net' : undefined).skip)(
    'fails the default path the same way on this host',
    () => {
      expect(thrown(() => VhostNetFd.open()).message).toMatch(/^open \/dev\/vhost-net: ENOENT \(2\) — \/dev\/vhost-net not found: load the vhost_net module/);
    },
  );

  it('names the request when the kernel refuses an ioctl (a non-vhost fd: ENOTTY)', () => {
    const ev = EventFd.create();
    const v = VhostNetFd.fromFd(ev.fd);
    try {
      const e = thrown(() => v.getFeatures());
      expect(e.request).toBe('VHOST_GET_FEATURES');
      expect(e.code).toBe('ENOTTY');
      expect(e.message).toMatch(new RegExp(`^ioctl VHOST_GET_FEATURES /dev/vhost-net fd ${ev.fd}: ENOTTY \\(25\\) — the fd is not a /dev/vhost-net fd`));
      expect(thrown(() => v.setVringKick(0, ev.fd)).request).toBe('VHOST_SET_VRING_KICK');
      expect(thrown(() => v.setBackend(1, -1)).request).toBe('VHOST_NET_SET_BACKEND');
      expect(thrown(() => v.setMemTable([{ guestPhysAddr: 0n, memorySize: 4096n, userspaceAddr: 0x1000n }])).request).toBe('VHOST_SET_MEM_TABLE');
      expect(thrown(() => v.setOwner()).request).toBe('VHOST_SET_OWNER');
      expect(thrown(() => v.setLogBase(0x1000n)).request).toBe('VHOST_SET_LOG_BASE');
    } finally {
      v.close(); // closes the eventfd's fd: the VhostNetFd owns what it wraps
    }
    expect(fdCount.isOpen(ev.fd)).toBe(false);
    expect(v.closed).toBe(true);
    expect(() => v.fd).toThrow(/closed/);
  });

  it('checks arguments before the kernel sees them', () => {
    const ev = EventFd.create();
    const v = VhostNetFd.fromFd(ev.fd);
    try {
      expect(() => v.setVringNum(-1, 256)).toThrow(/vring index -1 is not a u32/);
      expect(() => v.setVringCall(0, -2)).toThrow(/fd -2 is not a file descriptor/);
      expect(() => v.setFeatures(1n << 64n)).toThrow(/do not fit in 64 bits/);
      expect(() => v.setMemTable([])).toThrow(/at least one region/);
      expect(() => v.setLogBase(1n << 64n)).toThrow(/VHOST_SET_LOG_BASE: address 0x10000000000000000 does not fit in 64 bits/);
    } finally {
      v.close();
    }
    expect(() => VhostNetFd.fromFd(-1)).toThrow(/not a valid fd/);
  });
});
