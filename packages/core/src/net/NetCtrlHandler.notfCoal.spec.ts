import { describe, expect, it } from 'vitest';
import { featureBit } from '../defs/virtio.ts';
import * as N from '../defs/virtio_net.ts';
import { CtrlRig } from './CtrlRig.ts';
import { decodeNetCtrlCommand } from './decodeNetCtrlCommand.ts';
import { NetCtrlError } from './NetCtrlError.ts';
import { NetCtrlHandler, type NetCtrlHost } from './NetCtrlHandler.ts';
import type { NetNotfCoal } from './NetNotfCoal.ts';
import { NOTF_COAL_MAX_USECS } from './NOTF_COAL_MAX_USECS.ts';

// VIRTIO_NET_CTRL_NOTF_COAL (virtio 1.3 §5.1.6.5.9) on the control queue: TX_SET / RX_SET for a
// direction, VQ_SET / VQ_GET for one enabled data queue, each only with its feature acked, the
// last command for a queue winning, disabled queues falling back, the GET result after the ack.

const bits = (...n: number[]): bigint => n.reduce((a, b) => a | featureBit(b), 0n);
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const ALL = bits(N.VIRTIO_NET_F_CTRL_VQ, N.VIRTIO_NET_F_MQ, N.VIRTIO_NET_F_NOTF_COAL, N.VIRTIO_NET_F_VQ_NOTF_COAL);
const OK = { ack: N.VIRTIO_NET_OK, len: 1 };
const ERR = { ack: N.VIRTIO_NET_ERR, len: 1 };

class Host implements NetCtrlHost {
  readonly queuePairs = 4;
  readonly coal: NetNotfCoal[] = [];
  hookResult: boolean | undefined;
  onActivePairsChanged(): void {}
  onGuestOffloadsChanged(): void {}
  onRxFilterChanged(): void {}
  onMacChanged(): void {}
  onNotfCoalChanged(coal: NetNotfCoal): boolean | undefined {
    this.coal.push(coal);
    return this.hookResult;
  }
  ackAnnounce(): boolean {
    return false;
  }
  macUpdated(): void {}
  warn(): void {}
}

function rigFor(features = ALL): { h: NetCtrlHandler; host: Host; rig: CtrlRig } {
  const host = new Host();
  const h = new NetCtrlHandler(host, MAC);
  h.reset(features);
  return { h, host, rig: new CtrlRig((mem, queue) => h.process(mem, queue)) };
}

/** VQ_GET with `resultBytes` writable bytes after the ack: the ack, used length and the result. */
function vqGet(rig: CtrlRig, vqn: number, resultBytes = 8, data?: Uint8Array): { ack: number; len: number; maxPackets: number; maxUsecs: number } {
  const out = rig.buf(data ?? Uint8Array.of(N.VIRTIO_NET_CTRL_NOTF_COAL, N.VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET, vqn & 0xff, vqn >> 8, 0, 0));
  const inn = rig.buf(1 + resultBytes, true);
  const r = rig.run([out, inn], inn.addr);
  const back = rig.mem.read(inn.addr, 1 + resultBytes)!;
  const v = new DataView(back.buffer, back.byteOffset, back.byteLength);
  return { ack: r.ack, len: r.len, maxPackets: resultBytes >= 8 ? v.getUint32(1, true) : -1, maxUsecs: resultBytes >= 8 ? v.getUint32(5, true) : -1 };
}

describe('NetCtrlHandler: VIRTIO_NET_CTRL_NOTF_COAL', () => {
  it('starts with every parameter 0 and VQ_GET answers 0 after the ack', () => {
    const { h, rig } = rigFor();
    expect(h.state.notfCoal).toEqual({ tx: { maxPackets: 0, maxUsecs: 0 }, rx: { maxPackets: 0, maxUsecs: 0 }, vqs: [] });
    expect(vqGet(rig, 0)).toEqual({ ack: N.VIRTIO_NET_OK, len: 9, maxPackets: 0, maxUsecs: 0 });
  });

  it('RX_SET and TX_SET set their direction; VQ_GET reads them per queue', () => {
    const { h, host, rig } = rigFor();
    expect(rig.send({ kind: 'notf-coal-set', direction: 'rx', maxPackets: 32, maxUsecs: 100 })).toMatchObject(OK);
    expect(rig.send({ kind: 'notf-coal-set', direction: 'tx', maxPackets: 8, maxUsecs: 50 })).toMatchObject(OK);
    expect(h.state.notfCoal.rx).toEqual({ maxPackets: 32, maxUsecs: 100 });
    expect(h.state.notfCoal.tx).toEqual({ maxPackets: 8, maxUsecs: 50 });
    expect(host.coal).toHaveLength(2);
    expect(vqGet(rig, 0)).toMatchObject({ ack: N.VIRTIO_NET_OK, maxPackets: 32, maxUsecs: 100 });
    expect(vqGet(rig, 1)).toMatchObject({ ack: N.VIRTIO_NET_OK, maxPackets: 8, maxUsecs: 50 });
  });

  it('follows the spec example: the last command for a queue wins', () => {
    const { h, rig } = rigFor();
    expect(rig.send({ kind: 'mq-vq-pairs-set', pairs: 2 })).toMatchObject(OK);
    rig.send({ kind: 'notf-coal-set', direction: 'rx', maxPackets: 1, maxUsecs: 1 }); // command1: vq 0 and 2
    rig.send({ kind: 'notf-coal-vq-set', vqn: 0, maxPackets: 2, maxUsecs: 2 }); // command2
    expect(vqGet(rig, 0)).toMatchObject({ maxPackets: 2, maxUsecs: 2 }); // command3
    expect(vqGet(rig, 2)).toMatchObject({ maxPackets: 1, maxUsecs: 1 });
    rig.send({ kind: 'notf-coal-vq-set', vqn: 1, maxPackets: 4, maxUsecs: 4 }); // command4
    expect(vqGet(rig, 1)).toMatchObject({ maxPackets: 4, maxUsecs: 4 });
    expect(vqGet(rig, 3)).toMatchObject({ maxPackets: 0, maxUsecs: 0 });
    rig.send({ kind: 'notf-coal-set', direction: 'tx', maxPackets: 5, maxUsecs: 5 }); // command5 overrides command4
    expect(vqGet(rig, 1)).toMatchObject({ maxPackets: 5, maxUsecs: 5 }); // command6
    expect(vqGet(rig, 0)).toMatchObject({ maxPackets: 2, maxUsecs: 2 }); // RX overrides untouched by TX_SET
    expect(h.state.notfCoal.vqs).toEqual([{ vqn: 0, maxPackets: 2, maxUsecs: 2 }]);
  });

  it('refuses VQ_SET / VQ_GET for a queue that is not an enabled data queue', () => {
    const { h, rig } = rigFor();
    // One pair active: vq 0 and 1 only; 2 and 3 exist but are not enabled; 8 would be the control queue of 4 pairs.
    for (const vqn of [2, 3, 8, 0xffff]) {
      expect(rig.send({ kind: 'notf-coal-vq-set', vqn, maxPackets: 1, maxUsecs: 1 }), `VQ_SET ${vqn}`).toMatchObject(ERR);
      expect(vqGet(rig, vqn).ack, `VQ_GET ${vqn}`).toBe(N.VIRTIO_NET_ERR);
    }
    expect(h.state.notfCoal.vqs).toEqual([]);
    expect(rig.send({ kind: 'mq-vq-pairs-set', pairs: 2 })).toMatchObject(OK);
    expect(rig.send({ kind: 'notf-coal-vq-set', vqn: 3, maxPackets: 7, maxUsecs: 9 })).toMatchObject(OK);
    expect(vqGet(rig, 3)).toMatchObject({ ack: N.VIRTIO_NET_OK, maxPackets: 7, maxUsecs: 9 });
  });

  it('a disabled queue forgets its VQ_SET parameters and comes back with TX_SET / RX_SET ones', () => {
    const { h, host, rig } = rigFor();
    rig.send({ kind: 'mq-vq-pairs-set', pairs: 2 });
    rig.send({ kind: 'notf-coal-set', direction: 'tx', maxPackets: 3, maxUsecs: 30 });
    rig.send({ kind: 'notf-coal-vq-set', vqn: 3, maxPackets: 9, maxUsecs: 90 });
    rig.send({ kind: 'notf-coal-vq-set', vqn: 1, maxPackets: 6, maxUsecs: 60 });
    const before = host.coal.length;
    expect(rig.send({ kind: 'mq-vq-pairs-set', pairs: 1 })).toMatchObject(OK);
    expect(host.coal.length).toBe(before + 1); // the data plane hears of it
    expect(h.state.notfCoal.vqs).toEqual([{ vqn: 1, maxPackets: 6, maxUsecs: 60 }]);
    rig.send({ kind: 'mq-vq-pairs-set', pairs: 2 });
    expect(vqGet(rig, 3)).toMatchObject({ maxPackets: 3, maxUsecs: 30 });
  });

  it('answers ERR without the feature acked: NOTF_COAL for TX/RX_SET, VQ_NOTF_COAL for VQ_SET/GET', () => {
    const noVq = rigFor(bits(N.VIRTIO_NET_F_CTRL_VQ, N.VIRTIO_NET_F_NOTF_COAL));
    expect(noVq.rig.send({ kind: 'notf-coal-set', direction: 'rx', maxPackets: 1, maxUsecs: 1 })).toMatchObject(OK);
    expect(noVq.rig.send({ kind: 'notf-coal-vq-set', vqn: 0, maxPackets: 1, maxUsecs: 1 })).toMatchObject(ERR);
    expect(vqGet(noVq.rig, 0).ack).toBe(N.VIRTIO_NET_ERR);
    const none = rigFor(bits(N.VIRTIO_NET_F_CTRL_VQ, N.VIRTIO_NET_F_VQ_NOTF_COAL));
    expect(none.rig.send({ kind: 'notf-coal-set', direction: 'tx', maxPackets: 1, maxUsecs: 1 })).toMatchObject(ERR);
    expect(none.rig.send({ kind: 'notf-coal-vq-set', vqn: 1, maxPackets: 1, maxUsecs: 1 })).toMatchObject(OK);
    expect(none.h.state.notfCoal.tx).toEqual({ maxPackets: 0, maxUsecs: 0 });
    expect(none.h.counters.err).toBe(1);
  });

  it('refuses max_usecs above NOTF_COAL_MAX_USECS (counted malformed) and takes the bound itself', () => {
    const { h, rig } = rigFor();
    expect(rig.send({ kind: 'notf-coal-set', direction: 'rx', maxPackets: 1, maxUsecs: NOTF_COAL_MAX_USECS + 1 })).toMatchObject(ERR);
    expect(h.counters.malformed).toBe(1);
    expect(rig.send({ kind: 'notf-coal-set', direction: 'rx', maxPackets: 0xffff_ffff, maxUsecs: NOTF_COAL_MAX_USECS })).toMatchObject(OK);
    expect(h.state.notfCoal.rx).toEqual({ maxPackets: 0xffff_ffff, maxUsecs: NOTF_COAL_MAX_USECS });
  });

  it('rolls back when the backend refuses', () => {
    const { h, host, rig } = rigFor();
    host.hookResult = false;
    expect(rig.send({ kind: 'notf-coal-set', direction: 'rx', maxPackets: 4, maxUsecs: 4 })).toMatchObject(ERR);
    expect(rig.send({ kind: 'notf-coal-vq-set', vqn: 0, maxPackets: 4, maxUsecs: 4 })).toMatchObject(ERR);
    expect(h.state.notfCoal).toEqual({ tx: { maxPackets: 0, maxUsecs: 0 }, rx: { maxPackets: 0, maxUsecs: 0 }, vqs: [] });
  });

  it('VQ_GET without room for the result after the ack is ERR and writes only the ack', () => {
    const { rig } = rigFor();
    rig.send({ kind: 'notf-coal-set', direction: 'rx', maxPackets: 3, maxUsecs: 3 });
    const r = vqGet(rig, 0, 7);
    expect(r.ack).toBe(N.VIRTIO_NET_ERR);
    expect(r.len).toBe(1);
  });

  it('VQ_GET takes vq_index alone (as Linux 6.10+ sends it) as well as vq_index + reserved', () => {
    const { rig } = rigFor();
    rig.send({ kind: 'notf-coal-set', direction: 'tx', maxPackets: 11, maxUsecs: 12 });
    expect(vqGet(rig, 1, 8, Uint8Array.of(N.VIRTIO_NET_CTRL_NOTF_COAL, N.VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET, 1, 0))).toMatchObject({
      ack: N.VIRTIO_NET_OK,
      maxPackets: 11,
      maxUsecs: 12,
    });
  });

  it('reset clears every parameter (§5.1.6.5.9: upon reset all 0)', () => {
    const { h, rig } = rigFor();
    rig.send({ kind: 'notf-coal-set', direction: 'rx', maxPackets: 3, maxUsecs: 3 });
    rig.send({ kind: 'notf-coal-vq-set', vqn: 1, maxPackets: 3, maxUsecs: 3 });
    h.reset(ALL);
    expect(h.state.notfCoal).toEqual({ tx: { maxPackets: 0, maxUsecs: 0 }, rx: { maxPackets: 0, maxUsecs: 0 }, vqs: [] });
  });
});

describe('decodeNetCtrlCommand: VIRTIO_NET_CTRL_NOTF_COAL', () => {
  const C = N.VIRTIO_NET_CTRL_NOTF_COAL;
  const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  it('decodes TX_SET, RX_SET, VQ_SET (reserved ignored) and VQ_GET', () => {
    expect(decodeNetCtrlCommand(Uint8Array.of(C, 0, ...le32(5), ...le32(7)))).toEqual({
      ok: true,
      command: { kind: 'notf-coal-set', direction: 'tx', maxPackets: 5, maxUsecs: 7 },
    });
    expect(decodeNetCtrlCommand(Uint8Array.of(C, 1, ...le32(0xffffffff), ...le32(0)))).toEqual({
      ok: true,
      command: { kind: 'notf-coal-set', direction: 'rx', maxPackets: 0xffffffff, maxUsecs: 0 },
    });
    expect(decodeNetCtrlCommand(Uint8Array.of(C, 2, 3, 1, 0xab, 0xcd, ...le32(9), ...le32(10)))).toEqual({
      ok: true,
      command: { kind: 'notf-coal-vq-set', vqn: 0x103, maxPackets: 9, maxUsecs: 10 },
    });
    expect(decodeNetCtrlCommand(Uint8Array.of(C, 3, 2, 0, 0xff, 0xff))).toEqual({ ok: true, command: { kind: 'notf-coal-vq-get', vqn: 2 } });
  });
  it('refuses wrong lengths, unknown commands and max_usecs out of bounds', () => {
    const err = (b: number[]): unknown => {
      const r = decodeNetCtrlCommand(Uint8Array.from(b));
      return r.ok ? 'decoded' : r.error;
    };
    expect(err([C, 0, ...le32(1)])).toBe(NetCtrlError.BAD_LENGTH);
    expect(err([C, 1, ...le32(1), ...le32(1), 0])).toBe(NetCtrlError.BAD_LENGTH);
    expect(err([C, 2, 0, 0, ...le32(1), ...le32(1)])).toBe(NetCtrlError.BAD_LENGTH);
    expect(err([C, 3, 0])).toBe(NetCtrlError.BAD_LENGTH);
    expect(err([C, 3, 0, 0, 0])).toBe(NetCtrlError.BAD_LENGTH);
    expect(err([C, 4, ...le32(1), ...le32(1)])).toBe(NetCtrlError.UNKNOWN_COMMAND);
    expect(err([C, 0, ...le32(1), ...le32(NOTF_COAL_MAX_USECS + 1)])).toBe(NetCtrlError.COAL_USECS_RANGE);
    expect(err([C, 2, 0, 0, 0, 0, ...le32(1), ...le32(0xffffffff)])).toBe(NetCtrlError.COAL_USECS_RANGE);
  });
});
