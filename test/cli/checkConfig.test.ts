import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '@vnic/cli';
import { captureIo } from '../fixtures/captureIo.ts';
import { netBackendModule, type NetDeviceProvider } from '@vnic/core';
import type { ContainerModule } from 'inversify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** TEST-ONLY backends that only validate their section (check-config never creates devices). */
function backend(name: string, key: string): ContainerModule {
  const provider: NetDeviceProvider = {
    backend: name,
    validateOptions: (o) => (typeof o[key] === 'string' ? [] : [{ path: key, message: 'must be a string' }]),
    create: () => Promise.reject(new Error('check-config must not create devices')),
  };
  return netBackendModule(name, () => provider);
}
const allThree = (): ContainerModule[] => [backend('virtio-net', 'tap'), backend('vhost-net', 'tap'), backend('vhost-user', 'socket')];

const example = new URL('../../examples/vm-config.json', import.meta.url).pathname;

describe('vnic check-config', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vnic-check-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts examples/vm-config.json when its three backends are loaded, listing the NICs', async () => {
    const o = captureIo(allThree);
    expect(await runCli(['check-config', example], o)).toBe(0);
    expect(o.stdout).toContain(`${example} is valid: 3 NICs (backends loaded: vhost-net, vhost-user, virtio-net)`);
    expect(o.stdout).toMatch(/net0 {2}virtio-net {2}52:54:00:12:34:01 {2}2 queue pairs x 256/);
    expect(o.stdout).toMatch(/net2 {2}vhost-user {2}52:54:00:12:34:03 {2}1 queue pair x 1024/);
  });

  it('prints every issue with its path and exits 1', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({
        net: [
          { id: 'net0', backend: 'virtio-net', mac: '52:54:00:00:00:01', 'virtio-net': { tap: 7 } },
          { id: 'net0', backend: 'vhost-nte', mac: '52:54:00:00:00:02' },
        ],
      }),
    );
    const o = captureIo(allThree);
    expect(await runCli(['check-config', file], o)).toBe(1);
    expect(o.stdout.split('\n')).toEqual([
      `${file} is invalid: 3 issues (backends loaded: vhost-net, vhost-user, virtio-net)`,
      '  net[0].virtio-net.tap: must be a string',
      '  net[1].id: duplicate id "net0" (also net[0].id)',
      '  net[1].backend: unknown backend "vhost-nte"; known backends: "vhost-net", "vhost-user", "virtio-net"',
      '',
    ]);
  });

  it('reports schema problems (checked before the cross-field rules) with their paths', async () => {
    const file = join(dir, 'schema.json');
    await writeFile(file, JSON.stringify({ net: [{ id: 'net0', backend: 'virtio-net', mac: '01:00:00:00:00:01', queueSize: 300 }] }));
    const o = captureIo(allThree);
    expect(await runCli(['check-config', file], o)).toBe(1);
    expect(o.stdout).toContain('  net[0].queueSize: must be a power of two\n');
    expect(o.stdout).toContain('  net[0].mac: must be a unicast address (first byte even)\n');
  });

  it('reports backends that are not loaded, with the section checks of the ones that are', async () => {
    const o = captureIo(() => [backend('virtio-net', 'tap')]);
    expect(await runCli(['check-config', example], o)).toBe(1);
    expect(o.stdout).toContain('(backends loaded: virtio-net)');
    expect(o.stdout).toContain('  net[1].backend: unknown backend "vhost-net"; known backends: "virtio-net"');
    expect(o.stdout).toContain('  net[2].backend: unknown backend "vhost-user"; known backends: "virtio-net"');
    expect(o.stdout).not.toContain('net[0]');
  });

  it('names an unreadable file and bad JSON', async () => {
    const o = captureIo();
    expect(await runCli(['check-config', join(dir, 'missing.json')], o)).toBe(1);
    expect(o.stdout).toMatch(/cannot read VM config .*missing\.json: ENOENT/);
    const file = join(dir, 'broken.json');
    await writeFile(file, '{ "net": [ }');
    const o2 = captureIo();
    expect(await runCli(['check-config', file], o2)).toBe(1);
    expect(o2.stdout).toMatch(/broken\.json is not valid JSON/);
  });
});

describe('vnic (the rest of the command line)', () => {
  it('bench names the known benches for an unknown name and exits 2', async () => {
    const o = captureIo();
    expect(await runCli(['bench', 'no-such-backend', '--json'], o)).toBe(2);
    expect(o.stderr).toMatch(/^vnic bench: no bench named "no-such-backend"; known: /);
    expect(o.stdout).toBe('');
  });

  it('rejects bad options and unknown commands with exit 1, and shows help with exit 0', async () => {
    const bad = captureIo();
    expect(await runCli(['demo', '--pings', '0'], bad)).toBe(1);
    expect(bad.stderr).toMatch(/--pings must be an integer from 1 to 10000/);
    const unknown = captureIo();
    expect(await runCli(['dmeo'], unknown)).toBe(1);
    expect(unknown.stderr).toMatch(/unknown command 'dmeo'/);
    const help = captureIo();
    expect(await runCli(['--help'], help)).toBe(0);
    expect(help.stdout).toMatch(/check-config <file>/);
  });
});
