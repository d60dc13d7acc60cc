// Every package's error class answers is() for itself (and its subclasses) only: a check through
// ConfigError.is() must fail for a VhostNetError, or tests that check error classes cannot fail.
import { CliError } from '@vnic/cli';
import { ConfigError } from '@vnic/config';
import { VnicError } from '@vnic/core';
import { DriverError } from '@vnic/driver';
import { SysError } from '@vnic/sys';
import { TestVmError } from '@vnic/testvm';
import { VhostNetError } from '@vnic/vhost-net';
import { VhostUserError } from '@vnic/vhost-user';
import { VhostUserDeviceError } from '@vnic/vhost-user-device';
import { VhostUserProtocolError } from '@vnic/vhost-user-protocol';
import { VirtioNetError } from '@vnic/virtio-net';
import { describe, expect, it } from 'vitest';

const make: Record<string, [{ is(v: unknown): boolean; readonly brand: symbol }, () => VnicError]> = {
  CliError: [CliError, () => new CliError('invalid-argument', 'm')],
  ConfigError: [ConfigError, () => new ConfigError('invalid-config', 'm')],
  DriverError: [DriverError, () => new DriverError('timeout', 'm')],
  SysError: [SysError, () => new SysError({ syscall: 'open', errno: 1 })],
  TestVmError: [TestVmError, () => new TestVmError('timeout', 'm')],
  VhostNetError: [VhostNetError, () => new VhostNetError('vhost', 'm')],
  VhostUserError: [VhostUserError, () => new VhostUserError('protocol', 'm')],
  VhostUserDeviceError: [VhostUserDeviceError, () => new VhostUserDeviceError('protocol', 'm')],
  VhostUserProtocolError: [VhostUserProtocolError, () => new VhostUserProtocolError('protocol', 'm')],
  VirtioNetError: [VirtioNetError, () => new VirtioNetError('tap', 'm')],
};
const names = Object.keys(make);

describe('error class brands across packages', () => {
  it('ConfigError.is(new VhostNetError(...)) is false, VnicError.is(new ConfigError(...)) true', () => {
    expect(ConfigError.is(new VhostNetError('vhost', 'm'))).toBe(false);
    expect(VnicError.is(new ConfigError('invalid-config', 'm'))).toBe(true);
  });

  it('each class brands itself with Symbol.for(vnic.<its name>)', () => {
    for (const n of names) expect(make[n]![0].brand, n).toBe(Symbol.for(`vnic.${n}`));
  });

  it.each(names)('%s.is() is true for its own errors only; VnicError.is() for all', (n) => {
    const [cls] = make[n]!;
    for (const other of names) {
      const err = make[other]![1]();
      expect(cls.is(err), `${n}.is(new ${other}(...))`).toBe(other === n);
      expect(VnicError.is(err), `VnicError.is(new ${other}(...))`).toBe(true);
      expect(err.name).toBe(other);
    }
    expect(cls.is(new VnicError('x', 'm'))).toBe(false);
    expect(cls.is(new Error('m'))).toBe(false);
  });
});
