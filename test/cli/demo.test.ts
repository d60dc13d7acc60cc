import { execFileSync } from 'node:child_process';
import { Netns, netnsSupport, runCli } from '@vnic/cli';
import { containerBackends, createVnicContainer, defaultBackendModules } from '@vnic/config';
import { describe, expect, it } from 'vitest';
import { tapLoopbackBackend } from '../backends/tapLoopbackBackend.ts';
import { captureIo } from '../fixtures/captureIo.ts';
import { needsPeer } from '@vnic/sys/testing';

/** Names of the network namespaces that exist now (other test files make their own meanwhile). */
const nsList = (): string[] =>
  execFileSync('ip', ['netns', 'list'])
    .toString()
    .split('\n')
    .map((l) => l.split(' ')[0]!);

const { reason, skip } = needsPeer('demo run', await netnsSupport());
const shipped = containerBackends(createVnicContainer()).names.includes('virtio-net');
if (!shipped) console.warn('[test/cli] skipping the demo over the shipped backends: virtio-net is not in defaultBackendModules()');

describe('vnic demo', () => {
  it('says clearly that it needs the virtio-net backend when it is not loaded', async () => {
    const io = captureIo(() => []);
    expect(await runCli(['demo'], io)).toBe(1);
    expect(io.stderr).toMatch(/runs the in-process backend "virtio-net" \(@vnic\/virtio-net\), which is not loaded \(backends loaded: none\)/);
    expect(io.stdout).toBe('');
  });

  it.skipIf(skip)('runs end to end over a tap-backed backend: ARP, pings, UDP both ways, counters, cleanup', async () => {
    if (reason !== undefined) throw new Error(`the host kernel peer is not available: ${reason}`);
    const backend = tapLoopbackBackend('virtio-net');
    const io = captureIo(() => [backend.module]);
    const code = await runCli(['demo', '--pings', '3', '--burst', '300', '--size', '600'], io);
    expect(io.stderr).toBe('');
    expect(code).toBe(0);
    const out = io.stdout;
    const tap = /tap (vnd[0-9a-f]{6}) moved into namespace (vnicdemo[0-9a-f]{6})/.exec(out);
    expect(tap).not.toBeNull();
    const macLine = /MAC ([0-9a-f:]{17})\n/.exec(out.slice(out.indexOf('moved into namespace')))!;
    expect(out).toContain(`${macLine[1]} (`); // ARP resolved to the tap's MAC
    expect(out).toMatch(/: the tap's MAC\n/);
    expect(out.match(/seq \d: reply in [\d.]+ ms/g)).toHaveLength(3);
    expect(out).toMatch(/counted in the namespace: 300\/300 received, 0 corrupted; [\d,]+ pps/);
    expect(out).toMatch(/counted in the guest: 300\/300 received, 0 corrupted; [\d,]+ pps/);
    expect(out).toMatch(/queue\s+role\s+packets\s+bytes\s+drops\s+malformed\s+noBuffer\s+filtered/);
    expect(out).toMatch(/\n\s+1\s+tx0\s+(\d+)/);
    const tx0 = Number(/\n\s+1\s+tx0\s+(\d+)/.exec(out)![1]);
    expect(tx0).toBeGreaterThanOrEqual(300 + 3 + 1); // the burst, the pings, the ARP request
    expect(out).toMatch(new RegExp(`cleaned up   UDP receiver stopped, driver closed, device closed, namespace ${tap![2]} deleted\\n$`));
    // Nothing left behind: the namespace is gone, the tap too, the device closed.
    expect(nsList()).not.toContain(tap![2]);
    expect(() => execFileSync('ip', ['link', 'show', tap![1]!], { stdio: 'pipe' })).toThrow();
    expect(backend.created[0]!.tap.closed).toBe(true);
  });

  it.skipIf(skip)('cleans up when a step fails half-way, naming the failed command', async () => {
    // The move of the tap into the namespace fails (it is pointed at a link that does not exist): the demo must
    // report the failing command and still tear everything down.
    const backend = tapLoopbackBackend('virtio-net');
    const io = captureIo(() => [backend.module]);
    const proto = Netns.prototype;
    const original = Object.getOwnPropertyDescriptor(proto, 'moveLink')!;
    const moveLink = original.value as (this: Netns, ifname: string) => Promise<void>;
    proto.moveLink = async function (this: Netns, ifname: string): Promise<void> {
      return moveLink.call(this, `${ifname}x`); // a link that does not exist
    };
    try {
      expect(await runCli(['demo', '--pings', '1', '--burst', '10'], io)).toBe(1);
    } finally {
      Object.defineProperty(proto, 'moveLink', original);
    }
    expect(io.stderr).toMatch(
      /vnic demo failed: ip link set vnd[0-9a-f]{6}x netns vnicdemo[0-9a-f]{6} failed \(exit \d+\): .*— the interface is not in this namespace/,
    );
    const ns = /cleaned up {3}driver closed, device closed, namespace (vnicdemo[0-9a-f]{6}) deleted\n$/.exec(io.stdout);
    expect(ns).not.toBeNull();
    expect(nsList()).not.toContain(ns![1]);
    expect(backend.created[0]!.tap.closed).toBe(true);
  });

  it.skipIf(skip || !shipped)('runs end to end over the shipped virtio-net backend (defaultBackendModules)', async () => {
    if (reason !== undefined) throw new Error(`the host kernel peer is not available: ${reason}`);
    const io = captureIo(() => defaultBackendModules());
    const code = await runCli(['demo', '--pings', '2', '--burst', '200'], io);
    expect(io.stderr).toBe('');
    expect(code).toBe(0);
    expect(io.stdout).toMatch(/device {7}net0: backend virtio-net, 2 queue pairs/);
    expect(io.stdout).toMatch(/: the tap's MAC\n/);
    expect(io.stdout.match(/seq \d: reply in [\d.]+ ms/g)).toHaveLength(2);
    expect(io.stdout).toMatch(/counted in the namespace: 200\/200 received, 0 corrupted/);
    expect(io.stdout).toMatch(/counted in the guest: 200\/200 received, 0 corrupted/);
    const ns = /cleaned up {3}UDP receiver stopped, driver closed, device closed, namespace (vnicdemo[0-9a-f]{6}) deleted\n$/.exec(io.stdout);
    expect(ns).not.toBeNull();
    expect(nsList()).not.toContain(ns![1]);
  });
});
