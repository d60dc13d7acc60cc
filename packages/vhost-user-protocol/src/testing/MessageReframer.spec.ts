import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../encodeMessage.ts';
import { encodeU64 } from '../encodeU64.ts';
import { FrontendReq } from '../FrontendReq.ts';
import { MessageReframer } from './MessageReframer.ts';

const join = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe('MessageReframer', () => {
  const a = encodeMessage(FrontendReq.SET_FEATURES, encodeU64(0x1234n));
  const b = encodeMessage(FrontendReq.SET_OWNER, new Uint8Array(0));
  const c = encodeMessage(FrontendReq.GET_FEATURES, new Uint8Array(0));
  const stream = join(a, b, c);

  it('returns every message of one read, in order, with its payload', () => {
    const r = new MessageReframer();
    const got = r.push(stream);
    expect(got.map((m) => m.request)).toEqual([FrontendReq.SET_FEATURES, FrontendReq.SET_OWNER, FrontendReq.GET_FEATURES]);
    expect([...got[0]!.payload]).toEqual([...encodeU64(0x1234n)]);
    expect(got[1]!.payload).toHaveLength(0);
    expect(r.pending).toBe(0);
  });

  it('holds a message split over reads (inside the header and inside the payload) until it is whole', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const r = new MessageReframer();
      const first = r.push(stream.subarray(0, cut));
      expect(r.pending).toBe(cut - first.reduce((n, m) => n + 12 + m.size, 0));
      const rest = r.push(stream.subarray(cut));
      expect([...first, ...rest].map((m) => m.request)).toEqual([FrontendReq.SET_FEATURES, FrontendReq.SET_OWNER, FrontendReq.GET_FEATURES]);
      expect([...[...first, ...rest][0]!.payload]).toEqual([...encodeU64(0x1234n)]);
      expect(r.pending).toBe(0);
    }
  });
});
