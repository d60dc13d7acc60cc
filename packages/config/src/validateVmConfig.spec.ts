import type { ConfigIssue, NetDeviceProvider } from '@vnic/core';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BackendRegistry } from './BackendRegistry.ts';
import { validateVmConfig } from './validateVmConfig.ts';

/** Test-only backends: each checks one required string option, as a real backend section would. */
function registry(...names: string[]): BackendRegistry {
  const providers = new Map<string, NetDeviceProvider>(
    names.map((backend) => [
      backend,
      {
        backend,
        validateOptions(o): ConfigIssue[] {
          const key = backend === 'vhost-user' ? 'socket' : 'tap';
          return typeof o[key] === 'string' ? [] : [{ path: key, message: 'must be a string' }];
        },
        create: () => Promise.reject(new Error('not used')),
      },
    ]),
  );
  return { names: [...names].sort(), provider: (n) => providers.get(n) };
}

const all = registry('virtio-net', 'vhost-net', 'vhost-user');
const nic = (extra: Record<string, unknown> = {}) => ({ id: 'net0', backend: 'virtio-net', mac: '52:54:00:00:00:01', 'virtio-net': { tap: 't0' }, ...extra });
const paths = (issues: readonly ConfigIssue[]) => issues.map((i) => i.path);

describe('validateVmConfig', () => {
  it('accepts examples/vm-config.json (one NIC per backend) and fills defaults', () => {
    const raw = JSON.parse(readFileSync(new URL('../../../examples/vm-config.json', import.meta.url), 'utf8')) as unknown;
    const { issues, net } = validateVmConfig(raw, all);
    expect(issues).toEqual([]);
    expect(net.map((n) => n.backend)).toEqual(['virtio-net', 'vhost-net', 'vhost-user']);
    expect([...net[0]!.mac]).toEqual([0x52, 0x54, 0, 0x12, 0x34, 1]);
    expect(net[0]!.offloads.hostUfo).toBe(false);
    expect(net[0]!.offloads.csum).toBe(true);
    expect(net[2]!.options).toMatchObject({ socket: '/run/vnic/net2.sock' });
    expect(net[1]!.eventIdx).toBe(true);
  });

  it('applies defaults: 1 queue pair, queue size 256, all features on', () => {
    const { issues, net } = validateVmConfig({ net: [nic()] }, all);
    expect(issues).toEqual([]);
    expect(net[0]).toMatchObject({ queuePairs: 1, queueSize: 256, mrgRxbuf: true, ctrlVq: true, indirectDesc: true });
    expect(net[0]!.mtu).toBeUndefined();
  });

  it('names the field path and the allowed values', () => {
    const { issues } = validateVmConfig({ net: [nic({ queueSize: 300, queuePairs: 0, mac: '01:00:00:00:00:01' })] }, all);
    expect(issues).toContainEqual({ path: 'net[0].queueSize', message: 'must be a power of two' });
    expect(issues).toContainEqual({ path: 'net[0].queuePairs', message: 'must be at least 1' });
    expect(issues.find((i) => i.path === 'net[0].mac')?.message).toMatch(/unicast/);
  });

  it('lists the known backends for an unknown one', () => {
    const { issues } = validateVmConfig({ net: [nic({ backend: 'virtio-nett' })] }, all);
    const issue = issues.find((i) => i.path === 'net[0].backend');
    expect(issue?.message).toBe('unknown backend "virtio-nett"; known backends: "vhost-net", "vhost-user", "virtio-net"');
  });

  it('reports duplicate ids and MACs with both positions', () => {
    const { issues } = validateVmConfig({ net: [nic(), nic()] }, all);
    expect(issues).toContainEqual({ path: 'net[1].id', message: 'duplicate id "net0" (also net[0].id)' });
    expect(issues).toContainEqual({ path: 'net[1].mac', message: 'duplicate MAC 52:54:00:00:00:01 (also net[0].mac)' });
  });

  it('checks the backend section through its provider, with the full path', () => {
    const { issues } = validateVmConfig({ net: [nic({ 'virtio-net': { tap: 3 } })] }, all);
    expect(issues).toEqual([{ path: 'net[0].virtio-net.tap', message: 'must be a string' }]);
  });

  it('rejects a section for another backend and unknown fields', () => {
    const { issues } = validateVmConfig({ net: [nic({ 'vhost-user': { socket: '/x' }, colour: 'red' })] }, all);
    expect(paths(issues)).toEqual(['net[0].vhost-user', 'net[0].colour']);
    expect(issues[0]!.message).toMatch(/this NIC uses "virtio-net"/);
  });

  it('requires the control queue for multiqueue', () => {
    const { issues } = validateVmConfig({ net: [nic({ queuePairs: 2, ctrlVq: false })] }, all);
    expect(paths(issues)).toEqual(['net[0].queuePairs']);
  });

  it('validates the fallback backend and its section', () => {
    const bad = validateVmConfig({ net: [{ id: 'n', backend: 'vhost-net', fallback: 'nope', mac: '52:54:00:00:00:02', 'vhost-net': { tap: 't' } }] }, all);
    expect(paths(bad.issues)).toEqual(['net[0].fallback']);
    const same = validateVmConfig({ net: [nic({ fallback: 'virtio-net' })] }, all);
    expect(same.issues[0]?.message).toMatch(/must differ/);
    const ok = validateVmConfig({ net: [nic({ backend: 'vhost-net', fallback: 'virtio-net', 'vhost-net': { tap: 't' } })] }, all);
    expect(ok.issues).toEqual([]);
  });

  it('rejects a config that is not an object and unknown offloads', () => {
    expect(validateVmConfig(42, all).issues[0]?.path).toBe('(root)');
    const { issues } = validateVmConfig({ net: [nic({ offloads: { tso: true } })] }, all);
    expect(issues[0]?.path).toBe('net[0].offloads.tso');
  });

  it('refuses a root that is an array (not zero NICs), naming the root', () => {
    expect(validateVmConfig([], all)).toEqual({ issues: [{ path: '(root)', message: 'must be an object like { "net": [ ... ] }' }], net: [] });
  });

  it('refuses a NIC entry that is an array or null, naming the entry', () => {
    const { issues } = validateVmConfig({ net: [[], null] }, all);
    expect(issues).toEqual([
      { path: 'net[0]', message: 'must be an object describing one NIC' },
      { path: 'net[1]', message: 'must be an object describing one NIC' },
    ]);
  });

  it('refuses offloads: [] naming net[0].offloads', () => {
    const { issues } = validateVmConfig({ net: [nic({ offloads: [] })] }, all);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('net[0].offloads');
    expect(issues[0]!.message).toMatch(/^must be an object of offload switches/);
  });

  it('refuses a backend section of null naming it (absent means defaults, null does not)', () => {
    const { issues } = validateVmConfig({ net: [nic({ 'virtio-net': null })] }, all);
    expect(issues).toEqual([{ path: 'net[0].virtio-net', message: 'must be an object with the "virtio-net" backend\'s settings' }]);
  });

  it('refuses "__proto__" keys wherever they are, naming each', () => {
    const raw = JSON.parse(
      '{"__proto__":{},"net":[{"id":"net0","backend":"virtio-net","mac":"52:54:00:00:00:01","virtio-net":{"tap":"t0","__proto__":{"x":1}},"__proto__":[]}]}',
    ) as unknown;
    const { issues, net } = validateVmConfig(raw, all);
    expect(net).toEqual([]);
    expect(issues.map((i) => i.path).sort()).toEqual(['__proto__', 'net[0].__proto__', 'net[0].virtio-net.__proto__']);
    expect(issues[0]!.message).toBe('a key named "__proto__" is not allowed in a VM config');
  });

  it('bounds mtu by what a tap takes (65521) and names net[0].mtu', () => {
    expect(validateVmConfig({ net: [nic({ mtu: 65521 })] }, all).issues).toEqual([]);
    for (const mtu of [65522, 65535]) {
      expect(validateVmConfig({ net: [nic({ mtu })] }, all).issues).toEqual([
        { path: 'net[0].mtu', message: 'must be at most 65521 (the largest MTU a tap takes)' },
      ]);
    }
  });

  it('names a missing required field in its own words', () => {
    const { issues } = validateVmConfig({ net: [{ backend: 'virtio-net', 'virtio-net': { tap: 't0' } }] }, all);
    expect(issues).toEqual([
      { path: 'net[0].id', message: 'is required (missing "id" field)' },
      { path: 'net[0].mac', message: 'is required (missing "mac" field)' },
    ]);
  });

  it('returns no NIC configs when any issue exists', () => {
    const { net } = validateVmConfig({ net: [nic(), nic({ id: 'x', mac: 'zz' })] }, all);
    expect(net).toEqual([]);
  });
});
