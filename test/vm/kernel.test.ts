// Runs INSIDE the test VM (scripts/test.sh: runVitestInVm over test/vm/**; host runs exclude it).
// Proves the in-VM stage itself: the Debian kernel with vhost_net and tun, reached through @vnic/sys.
import { readFileSync } from 'node:fs';
import { closeFd, IFF_TAP, IFF_VNET_HDR, openFd, Tap } from '@vnic/sys';
import { describe, expect, it } from 'vitest';

describe('the test VM kernel', () => {
  it('runs inside the test VM', () => {
    // @vnic/testvm sets this; the host's vitest config excludes test/vm/** without it.
    expect(process.env['VNIC_IN_TESTVM']).toBe('1');
    expect(readFileSync('/proc/version', 'utf8')).toMatch(/^Linux version \S+-amd64 .*Debian/);
  });

  it('has vhost_net and tun loaded and /dev/vhost-net opens read-write', () => {
    const modules = readFileSync('/proc/modules', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[0]);
    expect(modules).toEqual(expect.arrayContaining(['vhost_net', 'vhost', 'tun']));
    const fd = openFd('/dev/vhost-net');
    expect(fd).toBeGreaterThanOrEqual(0);
    closeFd(fd);
  });

  it('creates an IFF_VNET_HDR tap through /dev/net/tun', () => {
    const tap = Tap.open({ name: `vmk${process.pid % 10000}`, vnetHdr: true });
    try {
      // tun_flags is the hex IFF_* set of the device: IFF_TAP (0x2) and IFF_VNET_HDR (0x4000).
      const flags = Number(readFileSync(`/sys/class/net/${tap.name}/tun_flags`, 'utf8').trim());
      expect(flags & (IFF_TAP | IFF_VNET_HDR)).toBe(IFF_TAP | IFF_VNET_HDR);
      expect(tap.ifindex()).toBeGreaterThan(1);
    } finally {
      tap.close();
    }
  });
});
