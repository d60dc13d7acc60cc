import type { NetDeviceProvider } from '@vnic/core';
import { describe, expect, it } from 'vitest';
import type { BackendRegistry } from './BackendRegistry.ts';
import { validateCoalescing } from './validateCoalescing.ts';
import { validateVmConfig } from './validateVmConfig.ts';

// The real providers' capability flags, without opening anything: virtio-net coalesces,
// vhost-net and vhost-user say where their frames (and interrupts) go instead.
const providers: NetDeviceProvider[] = [
  { backend: 'virtio-net', rateLimit: true, coalescing: true, validateOptions: () => [], create: () => Promise.reject(new Error('not used')) },
  { backend: 'vhost-net', dataPath: "the host kernel's vhost worker", validateOptions: () => [], create: () => Promise.reject(new Error('not used')) },
  { backend: 'vhost-user', dataPath: 'the vhost-user backend process', validateOptions: () => [], create: () => Promise.reject(new Error('not used')) },
];
const all: BackendRegistry = { names: providers.map((p) => p.backend), provider: (n) => providers.find((p) => p.backend === n) };
const nic = (extra: Record<string, unknown>) => ({ net: [{ id: 'net0', backend: 'virtio-net', mac: '52:54:00:00:00:01', ...extra }] });
const coal = { rx: { maxPackets: 32, maxUsecs: 200 }, tx: { maxPackets: 0, maxUsecs: 0 } };

describe('validateVmConfig: coalescing', () => {
  it('takes per-direction max_packets/max_usecs on virtio-net and hands them to the device config', () => {
    const { issues, net } = validateVmConfig(nic({ coalescing: coal }), all);
    expect(issues).toEqual([]);
    expect(net[0]!.coalescing).toEqual(coal);
    expect(validateVmConfig(nic({ coalescing: { tx: { maxPackets: 8, maxUsecs: 1_000_000 } } }), all).net[0]!.coalescing).toEqual({
      tx: { maxPackets: 8, maxUsecs: 1_000_000 },
    });
    expect(validateVmConfig(nic({}), all).net[0]!.coalescing).toBeUndefined();
  });

  it('names the field of a bad parameter and the bound', () => {
    const { issues } = validateVmConfig(nic({ coalescing: { rx: { maxPackets: -1, maxUsecs: 1_000_001 }, tx: { maxPackets: 1.5, maxUsecs: '10' } } }), all);
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'net[0].coalescing.rx.maxPackets: must be at least 0',
      'net[0].coalescing.rx.maxUsecs: must be at most 1000000 µs, one second',
      'net[0].coalescing.tx.maxPackets: must be an integer',
      'net[0].coalescing.tx.maxUsecs: must be a number',
    ]);
    expect(validateVmConfig(nic({ coalescing: { rx: { maxPackets: 4_294_967_296, maxUsecs: 1 } } }), all).issues.map((i) => i.path)).toEqual([
      'net[0].coalescing.rx.maxPackets',
    ]);
    expect(validateVmConfig(nic({ coalescing: { rx: { maxPackets: 4 } } }), all).issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'net[0].coalescing.rx.maxUsecs: is required (missing "maxUsecs" field)',
    ]);
  });

  it('refuses unknown keys and non-objects, naming what is allowed', () => {
    const { issues } = validateVmConfig(nic({ coalescing: { both: {}, rx: { max_packets: 4, maxPackets: 4, maxUsecs: 4 } } }), all);
    const byPath = new Map(issues.map((i) => [i.path, i.message]));
    expect([...byPath.keys()].sort()).toEqual(['net[0].coalescing.both', 'net[0].coalescing.rx.max_packets']);
    expect(byPath.get('net[0].coalescing.both')).toMatch(/allowed keys: rx .*tx/);
    expect(byPath.get('net[0].coalescing.rx.max_packets')).toMatch(/allowed keys: maxPackets, maxUsecs/);
    for (const bad of [[], 32, null]) {
      const got = validateVmConfig(nic({ coalescing: bad }), all).issues;
      expect(got.map((i) => i.path)).toEqual(['net[0].coalescing']);
      expect(got[0]!.message).toMatch(/allowed keys: rx/);
    }
    expect(validateVmConfig(nic({ coalescing: { rx: [32, 100] } }), all).issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      expect.stringMatching(/^net\[0\]\.coalescing\.rx: must be coalescing parameters like/),
    ]);
  });

  it('coalescing on vhost-net or vhost-user (backend or fallback) is a config error naming the field and why', () => {
    for (const backend of ['vhost-net', 'vhost-user']) {
      const { issues } = validateVmConfig(nic({ backend, coalescing: { rx: { maxPackets: 32, maxUsecs: 100 } } }), all);
      expect(issues.map((i) => i.path)).toEqual(['net[0].coalescing']);
      expect(issues[0]!.message).toContain(`the backend "${backend}" cannot coalesce notifications: vnic is not on its data path`);
      expect(issues[0]!.message).toContain(backend === 'vhost-net' ? "the host kernel's vhost worker" : 'the vhost-user backend process');
    }
    const { issues } = validateVmConfig(nic({ fallback: 'vhost-user', coalescing: { tx: { maxPackets: 0, maxUsecs: 0 } } }), all);
    expect(issues.map((i) => i.path)).toEqual(['net[0].coalescing']);
    expect(issues[0]!.message).toMatch(/^the fallback "vhost-user" cannot coalesce notifications/);
    // An empty object says nothing to coalesce: fine anywhere.
    expect(validateVmConfig(nic({ backend: 'vhost-net', coalescing: {} }), all).issues).toEqual([]);
  });

  it('validateCoalescing (vnic serve --coalesce) checks a value on its own with the same schema', () => {
    expect(validateCoalescing({ rx: { maxPackets: 32, maxUsecs: 50 } })).toEqual({ coalescing: { rx: { maxPackets: 32, maxUsecs: 50 } }, issues: [] });
    expect(validateCoalescing({ rx: { maxPackets: 32, maxUsecs: -5 } }).issues).toEqual([{ path: 'coalescing.rx.maxUsecs', message: 'must be at least 0' }]);
    expect(validateCoalescing('32').issues.map((i) => i.path)).toEqual(['coalescing']);
  });
});
