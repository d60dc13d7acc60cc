import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hostTapPeer, uniqueName } from '@vnic/sys/testing';

// Issue 11: an uncaught exception in a VMM with an active NIC must end the process. Its IO thread
// sits in epoll_wait, where Node's worker termination cannot reach it; the pool's exit hook wakes
// it so the process exits instead of waiting for that thread forever.

const CHILD = fileURLToPath(new URL('./fixtures/throwWithActiveNic.ts', import.meta.url));
/** Generous: the child loads tsx and starts a thread; the point is that it exits at all. */
const EXIT_DEADLINE_MS = 30_000;

const peer = hostTapPeer();

describe.skipIf(peer.skip)('a VMM process with an active virtio-net NIC', () => {
  it('exits non-zero after an uncaught exception (its IO thread does not hold it)', { timeout: EXIT_DEADLINE_MS + 10_000 }, async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, uniqueName('vndx')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), EXIT_DEADLINE_MS);
      }),
    ]);
    clearTimeout(timer);
    if (ended === undefined) child.kill('SIGKILL');
    expect(stdout, `the child never activated its NIC; stderr:\n${stderr}`).toContain('active');
    expect(ended, `the child did not exit within ${EXIT_DEADLINE_MS} ms of its uncaught exception`).toBeDefined();
    expect(ended!.signal).toBeNull();
    expect(ended!.code).not.toBe(0);
    expect(stderr).toContain('deliberate uncaught exception with an active NIC');
  });
});
