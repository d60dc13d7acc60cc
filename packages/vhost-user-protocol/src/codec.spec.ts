import { describe, expect, it } from 'vitest';
import { BackendReq } from './BackendReq.ts';
import { decodeConfigSpace } from './decodeConfigSpace.ts';
import { decodeHeader } from './decodeHeader.ts';
import { decodeMemoryTable } from './decodeMemoryTable.ts';
import { decodeU64 } from './decodeU64.ts';
import { decodeVringAddr } from './decodeVringAddr.ts';
import { decodeVringState } from './decodeVringState.ts';
import { encodeConfigSpace } from './encodeConfigSpace.ts';
import { encodeMemoryTable } from './encodeMemoryTable.ts';
import { encodeMessage } from './encodeMessage.ts';
import { encodeU64 } from './encodeU64.ts';
import { encodeVringAddr } from './encodeVringAddr.ts';
import { encodeVringState } from './encodeVringState.ts';
import { FrontendReq } from './FrontendReq.ts';
import { requestName } from './requestName.ts';
import { validateReply } from './validateReply.ts';
import * as V from './vhost_user.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('vhost-user message numbers (vhost-user.rst)', () => {
  it('numbers the frontend requests as the spec does', () => {
    const spec: [string, number][] = [
      ['GET_FEATURES', 1],
      ['SET_FEATURES', 2],
      ['SET_OWNER', 3],
      ['RESET_OWNER', 4],
      ['SET_MEM_TABLE', 5],
      ['SET_LOG_BASE', 6],
      ['SET_LOG_FD', 7],
      ['SET_VRING_NUM', 8],
      ['SET_VRING_ADDR', 9],
      ['SET_VRING_BASE', 10],
      ['GET_VRING_BASE', 11],
      ['SET_VRING_KICK', 12],
      ['SET_VRING_CALL', 13],
      ['SET_VRING_ERR', 14],
      ['GET_PROTOCOL_FEATURES', 15],
      ['SET_PROTOCOL_FEATURES', 16],
      ['GET_QUEUE_NUM', 17],
      ['SET_VRING_ENABLE', 18],
      ['SEND_RARP', 19],
      ['NET_SET_MTU', 20],
      ['SET_BACKEND_REQ_FD', 21],
      ['IOTLB_MSG', 22],
      ['SET_VRING_ENDIAN', 23],
      ['GET_CONFIG', 24],
      ['SET_CONFIG', 25],
      ['CREATE_CRYPTO_SESSION', 26],
      ['CLOSE_CRYPTO_SESSION', 27],
      ['POSTCOPY_ADVISE', 28],
      ['POSTCOPY_LISTEN', 29],
      ['POSTCOPY_END', 30],
      ['GET_INFLIGHT_FD', 31],
      ['SET_INFLIGHT_FD', 32],
      ['GPU_SET_SOCKET', 33],
      ['RESET_DEVICE', 34],
      ['VRING_KICK', 35],
      ['GET_MAX_MEM_SLOTS', 36],
      ['ADD_MEM_REG', 37],
      ['REM_MEM_REG', 38],
      ['SET_STATUS', 39],
      ['GET_STATUS', 40],
    ];
    for (const [name, n] of spec) expect(FrontendReq[name as keyof typeof FrontendReq], name).toBe(n);
    expect(requestName(5)).toBe('SET_MEM_TABLE');
    expect(requestName(999)).toBe('request 999');
    expect(BackendReq.CONFIG_CHANGE_MSG).toBe(2);
    expect(BackendReq.VRING_ERR).toBe(5);
  });

  it('numbers the protocol features as the spec does', () => {
    expect([
      V.VHOST_USER_PROTOCOL_F_MQ,
      V.VHOST_USER_PROTOCOL_F_LOG_SHMFD,
      V.VHOST_USER_PROTOCOL_F_RARP,
      V.VHOST_USER_PROTOCOL_F_REPLY_ACK,
      V.VHOST_USER_PROTOCOL_F_MTU,
      V.VHOST_USER_PROTOCOL_F_BACKEND_REQ,
      V.VHOST_USER_PROTOCOL_F_CROSS_ENDIAN,
      V.VHOST_USER_PROTOCOL_F_CRYPTO_SESSION,
      V.VHOST_USER_PROTOCOL_F_PAGEFAULT,
      V.VHOST_USER_PROTOCOL_F_CONFIG,
      V.VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD,
      V.VHOST_USER_PROTOCOL_F_HOST_NOTIFIER,
      V.VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD,
      V.VHOST_USER_PROTOCOL_F_RESET_DEVICE,
      V.VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS,
      V.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS,
      V.VHOST_USER_PROTOCOL_F_STATUS,
    ]).toEqual([...Array(17).keys()]);
    expect(V.VHOST_USER_F_PROTOCOL_FEATURES).toBe(30);
  });
});

describe('header', () => {
  it('encodes request, version flag and size, little-endian', () => {
    const m = encodeMessage(FrontendReq.SET_FEATURES, encodeU64(0x1_0000_0001n));
    expect(hex(m)).toBe('02000000' + '01000000' + '08000000' + '0100000001000000');
    const h = decodeHeader(m);
    expect(h).toEqual({ request: 2, flags: 1, size: 8 });
  });

  it('adds NEED_REPLY when asked', () => {
    const m = encodeMessage(FrontendReq.SET_OWNER, undefined, V.VHOST_USER_NEED_REPLY_MASK);
    expect(decodeHeader(m)).toEqual({ request: 3, flags: 0x9, size: 0 });
  });

  it('refuses oversized payloads and short headers', () => {
    expect(() => encodeMessage(1, new Uint8Array(V.VHOST_USER_MAX_PAYLOAD_SIZE + 1))).toThrow(/exceeds 4096/);
    expect(() => decodeHeader(new Uint8Array(11))).toThrow(/needs 12 bytes/);
  });
});

describe('payloads', () => {
  it('u64 round-trips and is exactly 8 bytes', () => {
    for (const n of [0n, 1n, 0xd7c66e7cbn, (1n << 64n) - 1n]) expect(decodeU64(encodeU64(n))).toBe(n);
    expect(decodeU64(encodeU64(17))).toBe(17n);
    expect(() => encodeU64(-1n)).toThrow(/out of range/);
    expect(() => encodeU64(1n << 64n)).toThrow(/out of range/);
    expect(() => decodeU64(new Uint8Array(4))).toThrow(/4 bytes, expected 8/);
  });

  it('vring state: u32 index, u32 num', () => {
    const b = encodeVringState({ index: 3, num: 0x10001 });
    expect(hex(b)).toBe('03000000' + '01000100');
    expect(decodeVringState(b)).toEqual({ index: 3, num: 0x10001 });
    expect(() => encodeVringState({ index: -1, num: 0 })).toThrow(/index -1/);
    expect(() => decodeVringState(new Uint8Array(9))).toThrow(/expected 8/);
  });

  it('vring address: index, flags, desc, used, avail, log in struct vhost_vring_addr order', () => {
    const addr = { flags: 0, descUserAddr: 0x7f00_0000_1000n, usedUserAddr: 0x7f00_0000_3000n, availUserAddr: 0x7f00_0000_2000n, logGuestAddr: 0n };
    const b = encodeVringAddr(1, addr);
    expect(b.length).toBe(40);
    const v = new DataView(b.buffer);
    expect(v.getUint32(0, true)).toBe(1);
    expect(v.getBigUint64(8, true)).toBe(addr.descUserAddr);
    expect(v.getBigUint64(16, true)).toBe(addr.usedUserAddr);
    expect(v.getBigUint64(24, true)).toBe(addr.availUserAddr);
    expect(decodeVringAddr(b)).toEqual({ index: 1, addr });
    expect(() => decodeVringAddr(new Uint8Array(32))).toThrow(/expected 40/);
  });

  it('memory table: nregions, padding, then 32-byte regions', () => {
    const regions = [
      { guestPhysAddr: 0n, memorySize: 0x10_0000n, userspaceAddr: 0x7f12_3400_0000n, mmapOffset: 0n },
      { guestPhysAddr: 0x1_0000_0000n, memorySize: 0x2000n, userspaceAddr: 0x7f55_0000_0000n, mmapOffset: 0x1000n },
    ];
    const b = encodeMemoryTable(regions);
    expect(b.length).toBe(8 + 2 * 32);
    expect(new DataView(b.buffer).getUint32(0, true)).toBe(2);
    expect(decodeMemoryTable(b)).toEqual(regions);
    // QEMU's full-size form (8 slots) decodes too.
    const full = new Uint8Array(8 + 8 * 32);
    full.set(b);
    expect(decodeMemoryTable(full)).toEqual(regions);
  });

  it('memory table: 1..8 regions, sizes checked', () => {
    const r = { guestPhysAddr: 0n, memorySize: 4096n, userspaceAddr: 0n, mmapOffset: 0n };
    expect(() => encodeMemoryTable([])).toThrow(/1\.\.8 regions/);
    expect(() => encodeMemoryTable(Array(9).fill(r))).toThrow(/VHOST_MEMORY_BASELINE_NREGIONS/);
    expect(encodeMemoryTable(Array(8).fill(r)).length).toBe(8 + 8 * 32);
    expect(() => encodeMemoryTable([{ ...r, memorySize: 0n }])).toThrow(/positive/);
    const bad = encodeMemoryTable([r]);
    new DataView(bad.buffer).setUint32(0, 9, true);
    expect(() => decodeMemoryTable(bad)).toThrow(/nregions 9/);
    expect(() => decodeMemoryTable(encodeMemoryTable([r]).subarray(0, 39))).toThrow(/expected 40/);
    expect(() => decodeMemoryTable(new Uint8Array(4))).toThrow(/header/);
    // user-mode Linux's virtio_uml sends two region slots with one used: the spare slot is ignored.
    const two = new Uint8Array(8 + 2 * 32);
    two.set(encodeMemoryTable([{ ...r, guestPhysAddr: 0x1000n, userspaceAddr: 0x1000n }]));
    expect(decodeMemoryTable(two)).toEqual([{ ...r, guestPhysAddr: 0x1000n, userspaceAddr: 0x1000n }]);
    expect(() => decodeMemoryTable(new Uint8Array(8 + 32 + 16).fill(0).fill(1, 0, 1))).toThrow(/whole 32-byte region slots/);
    expect(() => decodeMemoryTable(new Uint8Array(8 + 9 * 32).fill(0).fill(1, 0, 1))).toThrow(/expected 40 to 264/);
  });

  it('config space: offset, size, flags, bytes', () => {
    const b = encodeConfigSpace({ offset: 6, flags: 0, payload: Uint8Array.of(1, 0) });
    expect(hex(b)).toBe('06000000' + '02000000' + '00000000' + '0100');
    expect(decodeConfigSpace(b)).toEqual({ offset: 6, flags: 0, payload: Uint8Array.of(1, 0) });
    expect(() => encodeConfigSpace({ offset: 0, flags: 0, payload: new Uint8Array(257) })).toThrow(/exceeds 256/);
    expect(() => encodeConfigSpace({ offset: 250, flags: 0, payload: new Uint8Array(8) })).toThrow(/outside/);
    const lying = b.slice();
    new DataView(lying.buffer).setUint32(4, 3, true);
    expect(() => decodeConfigSpace(lying)).toThrow(/size field says 15/);
    new DataView(lying.buffer).setUint32(4, 1000, true);
    expect(() => decodeConfigSpace(lying)).toThrow(/exceeds 256/);
  });
});

describe('validateReply', () => {
  const ok = { request: FrontendReq.GET_FEATURES, flags: V.VHOST_USER_VERSION | V.VHOST_USER_REPLY_MASK, size: 8 };

  it('accepts the right request, version 1, REPLY set, exact size', () => {
    expect(validateReply(FrontendReq.GET_FEATURES, ok, 8)).toBeUndefined();
  });

  it('names the request and what was expected', () => {
    expect(validateReply(FrontendReq.GET_FEATURES, { ...ok, request: FrontendReq.GET_QUEUE_NUM }, 8)).toBe(
      'GET_FEATURES: the reply is for GET_QUEUE_NUM, expected GET_FEATURES',
    );
    expect(validateReply(FrontendReq.GET_FEATURES, { ...ok, flags: 1 }, 8)).toMatch(/lacks the REPLY flag/);
    expect(validateReply(FrontendReq.GET_FEATURES, { ...ok, flags: 0x6 }, 8)).toMatch(/version 2, expected 1/);
    expect(validateReply(FrontendReq.GET_FEATURES, { ...ok, flags: 0xd }, 8)).toMatch(/sets NEED_REPLY/);
    expect(validateReply(FrontendReq.GET_FEATURES, { ...ok, size: 4 }, 8)).toBe('GET_FEATURES: reply payload is 4 bytes, expected 8');
    expect(validateReply(FrontendReq.GET_FEATURES, { ...ok, size: 0xffff_ffff }, 8)).toMatch(/exceeds the 4096-byte maximum/);
  });
});
