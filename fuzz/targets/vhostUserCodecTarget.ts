import {
  VhostUserProtocolError,
  decodeConfigSpace,
  decodeHeader,
  decodeMemoryTable,
  decodeU64,
  decodeVringAddr,
  decodeVringState,
  encodeConfigSpace,
  encodeMemoryTable,
  encodeU64,
  encodeVringAddr,
  encodeVringState,
} from '../../packages/vhost-user-protocol/src/index.ts';
import { FuzzOracleError } from '../FuzzOracleError.ts';

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Fuzz target for the vhost-user wire codec: byte 0 picks a decoder, the rest is its payload (at an
 * odd byte offset, so unaligned views are exercised). Oracle: only VhostUserProtocolError escapes;
 * a payload that decodes re-encodes to the same bytes (the compact memory-table form, padding aside, the u64, the
 * vring state and address); the input is never modified.
 */
export function vhostUserCodecTarget(data: Uint8Array): void {
  const which = (data[0] ?? 0) % 7;
  const copy = new Uint8Array(data.length + 1);
  copy.set(data, 1);
  const payload = copy.subarray(2);
  const before = payload.slice();
  try {
    switch (which) {
      case 0:
        decodeHeader(payload);
        break;
      case 1:
        if (!same(encodeU64(decodeU64(payload)), payload)) throw new FuzzOracleError('u64 does not round-trip');
        break;
      case 2:
        if (!same(encodeVringState(decodeVringState(payload)), payload)) throw new FuzzOracleError('vring state does not round-trip');
        break;
      case 3: {
        const { index, addr } = decodeVringAddr(payload);
        if (!same(encodeVringAddr(index, addr), payload)) throw new FuzzOracleError('vring addr does not round-trip');
        break;
      }
      case 4: {
        const regions = decodeMemoryTable(payload);
        const again = encodeMemoryTable(regions);
        // Bytes 4..7 are the header's padding: the encoder writes zeros there.
        const want = payload.slice(0, again.length);
        want.fill(0, 4, 8);
        if (!same(again, want)) throw new FuzzOracleError('memory table does not round-trip');
        break;
      }
      case 5: {
        const cfg = decodeConfigSpace(payload);
        encodeConfigSpace(cfg);
        break;
      }
      default:
        // header + body as one frame: the header's size must be checked against what is there.
        decodeHeader(payload);
        break;
    }
  } catch (err) {
    if (!VhostUserProtocolError.is(err)) throw err;
  }
  if (!same(before, payload)) throw new FuzzOracleError('a decoder modified its input');
}
