import { featureBit, VIRTIO_F_RING_PACKED } from '@vnic/core';
import { VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_NOTF_COAL, VIRTIO_NET_F_VQ_NOTF_COAL } from '@vnic/core/virtio_net';
import { closeFd, socketpair } from '@vnic/sys';
import {
  decodeConfigSpace,
  decodeU64,
  encodeConfigSpace,
  encodeU64,
  FrontendReq,
  VHOST_USER_NEED_REPLY_MASK,
  VHOST_USER_PROTOCOL_F_BACKEND_REQ,
  VHOST_USER_PROTOCOL_F_CONFIG,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
} from '@vnic/vhost-user-protocol';
import { describe, expect, it } from 'vitest';
import { hostileServer, hostileTestsRun, reply, send } from './hostileServer.ts';

// Whole-device mode (controlQueue: true, `vnic serve --ctrl-vq`) against a frontend written here,
// on a real VhostUserDeviceServer: the offer, config space (GET_CONFIG), the backend-request fd,
// a REPLY_ACK acked together with NEED_REPLY, the socket call fds of user-mode Linux; and the
// same requests refused by a server in the default mode. The end-to-end proof with a real Linux
// driver is coalesce.uml.test.ts.

const root = hostileTestsRun('vhost-user device, whole-device mode');
const bit = (n: number): bigint => 1n << BigInt(n);

describe.skipIf(!root)('vhost-user device: whole-device mode (the control queue and config space)', () => {
  const h = hostileServer('vuwd', { handshakeTimeoutMs: 1000, controlQueue: true });

  it('offers CTRL_VQ, NOTF_COAL and VQ_NOTF_COAL without RING_PACKED, and PROTOCOL_F_CONFIG and BACKEND_REQ', async () => {
    const reason = await h.session(async (s) => {
      send(s, FrontendReq.GET_FEATURES);
      const f = decodeU64(await reply(s, FrontendReq.GET_FEATURES, 8));
      for (const b of [VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_NOTF_COAL, VIRTIO_NET_F_VQ_NOTF_COAL]) expect(f & featureBit(b)).not.toBe(0n);
      expect(f & featureBit(VIRTIO_F_RING_PACKED)).toBe(0n);
      send(s, FrontendReq.GET_PROTOCOL_FEATURES);
      const p = decodeU64(await reply(s, FrontendReq.GET_PROTOCOL_FEATURES, 8));
      expect(p & bit(VHOST_USER_PROTOCOL_F_CONFIG)).not.toBe(0n);
      expect(p & bit(VHOST_USER_PROTOCOL_F_BACKEND_REQ)).not.toBe(0n);
      s.close();
    });
    expect(reason).toBeUndefined();
  });

  it('answers a SET_PROTOCOL_FEATURES that acks REPLY_ACK with NEED_REPLY set, and GET_CONFIG with the virtio_net_config (bytes past it read 0)', async () => {
    const reason = await h.session(async (s) => {
      send(
        s,
        FrontendReq.SET_PROTOCOL_FEATURES,
        encodeU64(bit(VHOST_USER_PROTOCOL_F_REPLY_ACK) | bit(VHOST_USER_PROTOCOL_F_CONFIG)),
        [],
        VHOST_USER_NEED_REPLY_MASK,
      );
      expect(decodeU64(await reply(s, FrontendReq.SET_PROTOCOL_FEATURES, 8))).toBe(0n);
      send(s, FrontendReq.GET_CONFIG, encodeConfigSpace({ offset: 0, flags: 0, payload: new Uint8Array(24) }));
      const c = decodeConfigSpace(await reply(s, FrontendReq.GET_CONFIG, 12 + 24));
      expect(c.offset).toBe(0);
      expect(c.payload.length).toBe(24);
      expect(c.payload[6]).toBe(1); // status: VIRTIO_NET_S_LINK_UP
      expect(c.payload[8]! | (c.payload[9]! << 8)).toBe(1); // max_virtqueue_pairs
      expect(c.payload[10]! | (c.payload[11]! << 8)).toBe(1500); // mtu
      expect([...c.payload.subarray(17)]).toEqual(new Array<number>(7).fill(0)); // past `duplex`: 0
      send(s, FrontendReq.GET_CONFIG, encodeConfigSpace({ offset: 8, flags: 0, payload: new Uint8Array(2) }));
      const part = decodeConfigSpace(await reply(s, FrontendReq.GET_CONFIG, 12 + 2));
      expect(part.offset).toBe(8);
      expect([...part.payload]).toEqual([1, 0]);
      s.close();
    });
    expect(reason).toBeUndefined();
  });

  it('takes a unix socket as a call fd (user-mode Linux signals through socketpairs) and a backend-request fd, and serves on', async () => {
    const reason = await h.session(async (s) => {
      send(s, FrontendReq.SET_PROTOCOL_FEATURES, encodeU64(bit(VHOST_USER_PROTOCOL_F_REPLY_ACK) | bit(VHOST_USER_PROTOCOL_F_BACKEND_REQ)));
      const [a, b] = socketpair();
      const [c, d] = socketpair();
      try {
        send(s, FrontendReq.SET_VRING_CALL, encodeU64(0n), [b], VHOST_USER_NEED_REPLY_MASK);
        expect(decodeU64(await reply(s, FrontendReq.SET_VRING_CALL, 8))).toBe(0n);
        send(s, FrontendReq.SET_BACKEND_REQ_FD, undefined, [d], VHOST_USER_NEED_REPLY_MASK);
        expect(decodeU64(await reply(s, FrontendReq.SET_BACKEND_REQ_FD, 8))).toBe(0n);
      } finally {
        for (const fd of [a, b, c, d]) closeFd(fd);
      }
      send(s, FrontendReq.GET_FEATURES);
      expect(decodeU64(await reply(s, FrontendReq.GET_FEATURES, 8))).toBe(h.server.features);
      s.close();
    });
    expect(reason).toBeUndefined();
  });

  it('refuses a GET_CONFIG range beyond the 256 bytes of config space, naming it', async () => {
    const reason = await h.session((s) => {
      send(s, FrontendReq.SET_PROTOCOL_FEATURES, encodeU64(bit(VHOST_USER_PROTOCOL_F_CONFIG)));
      send(s, FrontendReq.GET_CONFIG, encodeConfigSpace({ offset: 250, flags: 0, payload: new Uint8Array(6) }).fill(0xff, 0, 4));
    });
    expect(reason?.message).toMatch(/GET_CONFIG: config range 4294967295\+6 lies outside the 256 bytes of config space/);
  });
});

describe.skipIf(!root)('vhost-user device: the default mode has no config space', () => {
  const h = hostileServer('vudc', { handshakeTimeoutMs: 1000 });

  it('GET_CONFIG and SET_BACKEND_REQ_FD are refused with what to do', async () => {
    const config = await h.session((s) => send(s, FrontendReq.GET_CONFIG, encodeConfigSpace({ offset: 0, flags: 0, payload: new Uint8Array(8) })));
    expect(config?.message).toMatch(/GET_CONFIG: protocol feature CONFIG was not offered \(start the device with controlQueue \/ --ctrl-vq/);
    const [a, b] = socketpair();
    try {
      const req = await h.session((s) => send(s, FrontendReq.SET_BACKEND_REQ_FD, undefined, [b]));
      expect(req?.message).toMatch(/SET_BACKEND_REQ_FD: needs protocol feature BACKEND_REQ acked/);
    } finally {
      closeFd(a);
      closeFd(b);
    }
  });
});
