import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeFd, socketpair, UnixSocket } from '@vnic/sys';
import { decodeU64, encodeMessage, encodeU64, FrontendReq, VHOST_USER_HDR_SIZE } from '@vnic/vhost-user-protocol';
import { describe, expect, it } from 'vitest';
import { needsPeer, uniqueName } from '@vnic/sys/testing';
import { startServe } from './serveProcess.ts';

const root = !needsPeer('vnic serve', process.getuid?.() === 0 ? undefined : 'needs root for the tap').skip;

describe.skipIf(!root)('vnic serve', () => {
  it('logs the frontend connecting and leaving, answers GET_FEATURES, cleans up on Ctrl-C (SIGINT)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnic-serve-'));
    const sock = join(dir, 'serve.sock');
    const tap = uniqueName('vsrv');
    const { child, output, exited, waitFor } = startServe(['--socket', sock, '--tap', tap]);
    try {
      await waitFor(/listening on /);
      expect(output()).toMatch(new RegExp(`tap ${tap}, 1 queue pair\\(s\\), offering 0x[0-9a-f]+ \\(.*VERSION_1`));
      const s = UnixSocket.connect(sock);
      s.send(encodeMessage(FrontendReq.GET_FEATURES));
      const { data } = await s.recvAsync(VHOST_USER_HDR_SIZE + 8);
      expect(decodeU64(data.subarray(VHOST_USER_HDR_SIZE)) & (1n << 32n)).not.toBe(0n);
      await waitFor(/frontend connected/);
      s.close();
      await waitFor(/frontend disconnected/);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output()).toMatch(/\[vnic serve\] stopped/);
      expect(existsSync(sock)).toBe(false); // the socket path is removed
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('--ctrl-vq (whole-device mode) offers the control queue with NOTF_COAL and PROTOCOL_F_CONFIG; without it neither', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnic-serve-'));
    try {
      for (const whole of [true, false]) {
        const sock = join(dir, `serve-${whole}.sock`);
        const { child, output, exited, waitFor } = startServe(['--socket', sock, '--tap', uniqueName('vsrc'), ...(whole ? ['--ctrl-vq'] : [])]);
        try {
          await waitFor(/listening on /);
          expect(/offering 0x[0-9a-f]+ \(.*\bCTRL_VQ\b.*\bNOTF_COAL\)/.test(output())).toBe(whole);
          const s = UnixSocket.connect(sock);
          s.send(encodeMessage(FrontendReq.GET_PROTOCOL_FEATURES));
          const { data } = await s.recvAsync(VHOST_USER_HDR_SIZE + 8);
          expect((decodeU64(data.subarray(VHOST_USER_HDR_SIZE)) & (1n << 9n)) !== 0n).toBe(whole); // VHOST_USER_PROTOCOL_F_CONFIG
          s.close();
          await waitFor(/frontend disconnected/);
          child.kill('SIGINT');
          expect(await exited).toBe(0);
        } finally {
          if (child.exitCode === null) child.kill('SIGKILL');
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('after an idle frontend, a refused second one and a socket sent as kick fd, serves a good frontend and stops on SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnic-serve-'));
    const sock = join(dir, 'serve.sock');
    const tap = uniqueName('vsrh');
    const { child, output, exited, waitFor } = startServe(['--socket', sock, '--tap', tap, '--handshake-timeout', '400']);
    const [a, b] = socketpair();
    try {
      await waitFor(/listening on /);
      // An idle frontend holds the device; a second one is refused at once, the idle one dropped.
      const idle = UnixSocket.connect(sock);
      await waitFor(/frontend connected/);
      const second = UnixSocket.connect(sock);
      await waitFor(/refused: .*refused a second frontend/);
      second.close();
      await waitFor(/frontend dropped: .*idle or too slow.*handshakeTimeoutMs/);
      idle.close();
      // A socket is no kick eventfd: refused with a message, the server lives.
      const bad = UnixSocket.connect(sock);
      bad.send(encodeMessage(FrontendReq.SET_OWNER));
      bad.send(encodeMessage(FrontendReq.SET_VRING_KICK, encodeU64(0n)), [a]);
      await waitFor(/frontend dropped: .*SET_VRING_KICK: vring 0: the fd is socket:\[\d+\], not an eventfd/);
      bad.close();
      // A well-behaved frontend is served after all of that.
      const good = UnixSocket.connect(sock);
      good.send(encodeMessage(FrontendReq.GET_FEATURES));
      const { data } = await good.recvAsync(VHOST_USER_HDR_SIZE + 8);
      expect(decodeU64(data.subarray(VHOST_USER_HDR_SIZE)) & (1n << 32n)).not.toBe(0n);
      good.close();
      await waitFor(/frontend disconnected/);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output()).toMatch(/\[vnic serve\] stopped/);
      expect(existsSync(sock)).toBe(false);
    } finally {
      closeFd(a);
      closeFd(b);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('--state refuses a state of another version, queue-pair count or an offload this tap lacks (exit 1, what differs named, no tap left); SIGUSR2 with no frontend keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnic-serve-'));
    const sock = join(dir, 'serve.sock');
    const stateFile = join(dir, 'state.json');
    const state = {
      format: 'vnic-vhost-user-device-state',
      version: 1,
      savedAt: '2026-12-02T00:00:00.000Z',
      socket: '/run/old.sock',
      tap: 'old0',
      queuePairs: 2,
      offered: '0x150008000',
      features: '0x150008000',
      protocolFeatures: '0x9',
      queues: [],
    };
    try {
      writeFileSync(stateFile, JSON.stringify({ ...state, version: 2 }));
      const old = startServe(['--socket', sock, '--tap', uniqueName('vsrs'), '--state', stateFile]);
      expect(await old.exited).toBe(1);
      expect(old.output()).toMatch(/vnic serve: --state .*state\.json: device state field version is 2; this vnic reads version 1 only/);

      writeFileSync(stateFile, JSON.stringify(state));
      const tap = uniqueName('vsrs');
      const pairs = startServe(['--socket', sock, '--tap', tap, '--state', stateFile]);
      expect(await pairs.exited).toBe(1);
      expect(pairs.output()).toMatch(
        /the device state saved by \/run\/old\.sock at .* has 2 queue pair\(s\); this server serves 1: start it with --queue-pairs 2/,
      );
      expect(existsSync(`/sys/class/net/${tap}`)).toBe(false); // the tap it opened is gone again
      expect(existsSync(sock)).toBe(false);

      // A receive offload the frontend acked that this server's tap data plane does not give (USO4,
      // which a 6.1 tap lacks): the frontend would lose it, so the state is refused.
      const uso4 = `0x${(BigInt(state.features) | (1n << 54n)).toString(16)}`;
      writeFileSync(stateFile, JSON.stringify({ ...state, queuePairs: 1, offered: uso4, features: uso4 }));
      const offloadTap = uniqueName('vsrs');
      const offload = startServe(['--socket', sock, '--tap', offloadTap, '--state', stateFile]);
      expect(await offload.exited).toBe(1);
      expect(offload.output()).toMatch(
        /has features 0x40000000000000 \(GUEST_USO4\) acked that this server does not offer .*use a tap that has these offloads/,
      );
      expect(existsSync(`/sys/class/net/${offloadTap}`)).toBe(false);
      expect(existsSync(sock)).toBe(false);

      const saveFile = join(dir, 'saved.json');
      const { child, output, exited, waitFor } = startServe(['--socket', sock, '--tap', uniqueName('vsrs'), '--save-state', saveFile]);
      try {
        await waitFor(/listening on /);
        child.kill('SIGUSR2');
        await waitFor(/cannot save the state \(still serving\): .*no device state to save: no frontend is connected/);
        expect(existsSync(saveFile)).toBe(false);
        const s = UnixSocket.connect(sock); // still serving
        s.send(encodeMessage(FrontendReq.GET_FEATURES));
        const { data } = await s.recvAsync(VHOST_USER_HDR_SIZE + 8);
        expect(data.length).toBe(VHOST_USER_HDR_SIZE + 8);
        s.close();
        child.kill('SIGINT');
        expect(await exited).toBe(0);
        expect(output()).toMatch(/\[vnic serve\] stopped/);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
