import { describe, expect, it } from 'vitest';
import { CliError } from '../CliError.ts';
import { Netns } from './Netns.ts';
import { netnsSupport } from './netnsSupport.ts';
import { runCommand } from './runCommand.ts';
import { uniqueName } from './uniqueName.ts';

describe('runCommand', () => {
  it('resolves with the output of a command that succeeds', async () => {
    expect(await runCommand('sh', ['-c', 'echo out; echo err >&2'])).toEqual({ stdout: 'out\n', stderr: 'err\n', code: 0 });
    expect((await runCommand('cat', [], { input: 'fed' })).stdout).toBe('fed');
  });

  it('names the command, its exit code, its stderr and a hint when it fails', async () => {
    const err = await runCommand('sh', ['-c', 'echo "Cannot find device \\"vt0\\"" >&2; exit 1']).catch((e: unknown) => e);
    expect(CliError.is(err)).toBe(true);
    expect((err as CliError).kind).toBe('command-failed');
    expect((err as CliError).message).toMatch(/^sh -c .* failed \(exit 1\): Cannot find device "vt0" — the interface is not in this namespace/);
    expect(await runCommand('sh', ['-c', 'exit 3'], { allowFailure: true })).toMatchObject({ code: 3 });
  });

  it('says what to install when the command is missing', async () => {
    await expect(runCommand('vnic-no-such-tool', ['x'])).rejects.toThrow(/vnic-no-such-tool x: cannot run it: vnic-no-such-tool is not installed/);
  });

  it('kills a command that runs past its time limit', async () => {
    const t0 = Date.now();
    const err = await runCommand('sleep', ['5'], { timeoutMs: 100 }).catch((e: unknown) => e);
    expect((err as CliError).kind).toBe('timeout');
    expect((err as CliError).message).toBe('sleep 5: still running after 100 ms, killed');
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('uniqueName', () => {
  it('gives distinct names that fit IFNAMSIZ, and refuses longer ones', () => {
    const a = uniqueName('vnd');
    expect(a).toMatch(/^vnd[0-9a-f]{6}$/);
    expect(uniqueName('vnd')).not.toBe(a);
    expect(() => uniqueName('averylongprefix')).toThrow(/longer than 15 bytes/);
  });
});

const reason = await netnsSupport();
const skip = reason !== undefined && (process.env['CI'] ?? '') === '';
if (skip) console.warn(`[@vnic/cli] skipping namespace specs: ${reason}`);

describe.skipIf(skip)('Netns', () => {
  it('creates a namespace, runs commands in it, moves and addresses a link, and deletes it', async () => {
    if (reason !== undefined) throw new Error(reason);
    const ns = await Netns.create('vclins');
    const dummy = uniqueName('vcld'); // a persistent tap: a link to move around
    try {
      expect((await runCommand('ip', ['netns', 'list'])).stdout).toContain(ns.name);
      expect((await ns.exec('ip', ['-br', 'link', 'show', 'lo'])).stdout).toMatch(/^lo\s+UNKNOWN/); // lo is up
      await runCommand('ip', ['tuntap', 'add', 'dev', dummy, 'mode', 'tap']);
      await ns.moveLink(dummy);
      await ns.addAddress(dummy, '10.201.250.1/24');
      await ns.setUp(dummy);
      expect(await ns.ip('-br', 'addr', 'show', 'dev', dummy)).toContain('10.201.250.1/24');
      expect(await ns.linkMac(dummy)).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      expect((await ns.linkStats(dummy)).tx).toMatchObject({ packets: expect.any(Number), dropped: 0 });
      // the link left the host namespace
      await expect(runCommand('ip', ['link', 'show', dummy])).rejects.toThrow(/does not exist|Cannot find device/);
      await expect(ns.addAddress('vcl-missing', '10.201.250.2/24')).rejects.toThrow(
        /ip -n vclins[0-9a-f]{6} addr add 10\.201\.250\.2\/24 dev vcl-missing failed \(exit \d\): .*— /,
      );
    } finally {
      await ns.delete();
    }
    expect(ns.isDeleted).toBe(true);
    expect((await runCommand('ip', ['netns', 'list'])).stdout).not.toContain(ns.name);
    await ns.delete(); // idempotent
    await expect(runCommand('ip', ['link', 'show', dummy])).rejects.toThrow(); // went with the namespace
  });
});
