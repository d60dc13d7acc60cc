import type { NetDeviceProvider } from '@vnic/core';
import { describe, expect, it } from 'vitest';
import type { BackendRegistry } from './BackendRegistry.ts';
import { validateVmConfig } from './validateVmConfig.ts';

// The real providers' capability flags, without opening anything: virtio-net applies limits,
// vhost-net and vhost-user say where their frames go instead.
const providers: NetDeviceProvider[] = [
  { backend: 'virtio-net', rateLimit: true, validateOptions: () => [], create: () => Promise.reject(new Error('not used')) },
  { backend: 'vhost-net', dataPath: "the host kernel's vhost worker", validateOptions: () => [], create: () => Promise.reject(new Error('not used')) },
  { backend: 'vhost-user', dataPath: 'the vhost-user backend process', validateOptions: () => [], create: () => Promise.reject(new Error('not used')) },
];
const all: BackendRegistry = { names: providers.map((p) => p.backend), provider: (n) => providers.find((p) => p.backend === n) };
const nic = (extra: Record<string, unknown>) => ({ net: [{ id: 'net0', backend: 'virtio-net', mac: '52:54:00:00:00:01', ...extra }] });
const limit = { tx: { bandwidth: { size: 125_000, refillTimeMs: 100 }, ops: { size: 1000, refillTimeMs: 1000, oneTimeBurst: 500 } } };

describe('validateVmConfig: rateLimit', () => {
  it('takes a Firecracker-like limit on virtio-net and hands it to the device config', () => {
    const { issues, net } = validateVmConfig(nic({ rateLimit: limit }), all);
    expect(issues).toEqual([]);
    expect(net[0]!.rateLimit).toEqual(limit);
  });

  it('names the field of a bad bucket', () => {
    const { issues } = validateVmConfig(
      nic({ rateLimit: { rx: { bandwidth: { size: -1, refillTimeMs: 100 }, ops: { size: 1, refillTimeMs: 1.5 } }, tx: { ops: { size: 1 } } } }),
      all,
    );
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'net[0].rateLimit.rx.bandwidth.size: must be at least 0',
      'net[0].rateLimit.rx.ops.refillTimeMs: must be an integer',
      'net[0].rateLimit.tx.ops.refillTimeMs: is required (missing "refillTimeMs" field)',
    ]);
  });

  it('refuses unknown keys, naming what is allowed', () => {
    const { issues } = validateVmConfig(nic({ rateLimit: { up: {}, tx: { bytes: {} } } }), all);
    const byPath = new Map(issues.map((i) => [i.path, i.message]));
    expect([...byPath.keys()].sort()).toEqual(['net[0].rateLimit.tx.bytes', 'net[0].rateLimit.up']);
    expect(byPath.get('net[0].rateLimit.up')).toMatch(/allowed keys: rx .*tx/);
    expect(byPath.get('net[0].rateLimit.tx.bytes')).toMatch(/allowed keys: bandwidth .*ops/);
  });

  it('a limit on vhost-net or vhost-user is a config error naming the field and why', () => {
    for (const backend of ['vhost-net', 'vhost-user']) {
      const { issues } = validateVmConfig(nic({ backend, rateLimit: limit }), all);
      expect(issues.map((i) => i.path)).toEqual(['net[0].rateLimit']);
      expect(issues[0]!.message).toContain(`the backend "${backend}" cannot apply a rate limit: vnic is not on its data path`);
      expect(issues[0]!.message).toContain(backend === 'vhost-net' ? "the host kernel's vhost worker" : 'the vhost-user backend process');
    }
  });

  it('a fallback that cannot apply the limit is an error too; a limit of zeros (unlimited) is not', () => {
    const { issues } = validateVmConfig(nic({ fallback: 'vhost-net', rateLimit: limit }), all);
    expect(issues.map((i) => i.path)).toEqual(['net[0].rateLimit']);
    expect(issues[0]!.message).toMatch(/^the fallback "vhost-net" cannot apply a rate limit: vnic is not on its data path/);
    const zeros = { rx: { bandwidth: { size: 0, refillTimeMs: 100 } }, tx: { ops: { size: 100, refillTimeMs: 0 } } };
    expect(validateVmConfig(nic({ backend: 'vhost-user', rateLimit: zeros }), all).issues).toEqual([]);
  });
});
