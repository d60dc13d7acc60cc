// Writes the hand-made seed inputs of fuzz/corpus (run once: `pnpm exec tsx fuzz/makeCorpus.ts`).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeConfigSpace, encodeMemoryTable, encodeU64, encodeVringAddr, encodeVringState } from '../packages/vhost-user-protocol/src/index.ts';
import { SPLIT_QUEUE_GPA } from './targets/splitQueueTarget.ts';

const root = join(import.meta.dirname, 'corpus');
function put(target: string, name: string, bytes: Uint8Array): void {
  mkdirSync(join(root, target), { recursive: true });
  writeFileSync(join(root, target, name), bytes);
}

// splitQueue: size 16, INDIRECT_DESC; a 2-descriptor chain, an indirect chain, then a loop.
{
  const region = new DataView(new ArrayBuffer(0x1900));
  const desc = (i: number, addr: number, len: number, flags: number, next: number, table = 0): void => {
    const o = table + 16 * i;
    region.setUint32(o, addr, true);
    region.setUint32(o + 8, len, true);
    region.setUint16(o + 12, flags, true);
    region.setUint16(o + 14, next, true);
  };
  desc(0, SPLIT_QUEUE_GPA + 0x100, 64, 1, 1);
  desc(1, SPLIT_QUEUE_GPA + 0x200, 64, 2, 0);
  desc(2, SPLIT_QUEUE_GPA + 0x300, 32, 4, 0);
  desc(0, SPLIT_QUEUE_GPA + 0x400, 14, 1, 1, 0x300);
  desc(1, SPLIT_QUEUE_GPA + 0x500, 1500, 2, 0, 0x300);
  desc(3, SPLIT_QUEUE_GPA + 0x600, 8, 1, 4);
  desc(4, SPLIT_QUEUE_GPA + 0x600, 8, 1, 3);
  region.setUint16(0x1002, 3, true);
  region.setUint16(0x1004, 0, true);
  region.setUint16(0x1006, 2, true);
  region.setUint16(0x1008, 3, true);
  const bytes = new Uint8Array(2 + region.byteLength);
  bytes[0] = 4 | 0x20;
  bytes[1] = 8;
  bytes.set(new Uint8Array(region.buffer), 2);
  put('splitQueue', 'chains-indirect-loop', bytes);
  bytes[0] = 4 | 0x10;
  put('splitQueue', 'event-idx-no-indirect', bytes);
}

// vhostUserCodec: byte 0 selects the decoder (see the target).
const withTag = (tag: number, p: Uint8Array): Uint8Array => Uint8Array.of(tag, ...p);
put('vhostUserCodec', 'header', withTag(0, Uint8Array.of(1, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0)));
put('vhostUserCodec', 'u64', withTag(1, encodeU64(0x1_4000_0000n)));
put('vhostUserCodec', 'vring-state', withTag(2, encodeVringState({ index: 1, num: 256 })));
put(
  'vhostUserCodec',
  'vring-addr',
  withTag(3, encodeVringAddr(0, { flags: 0, descUserAddr: 0x1000n, usedUserAddr: 0x3000n, availUserAddr: 0x2000n, logGuestAddr: 0n })),
);
put(
  'vhostUserCodec',
  'mem-table',
  withTag(
    4,
    encodeMemoryTable([
      { guestPhysAddr: 0n, memorySize: 0x8000_0000n, userspaceAddr: 0x7f00_0000_0000n, mmapOffset: 0n },
      { guestPhysAddr: 0x1_0000_0000n, memorySize: 0x1_8000_0000n, userspaceAddr: 0x7f80_0000_0000n, mmapOffset: 0x8000_0000n },
    ]),
  ),
);
put('vhostUserCodec', 'config-space', withTag(5, encodeConfigSpace({ offset: 0, flags: 0, payload: Uint8Array.of(0x52, 0x54, 0, 0, 0, 1, 1, 0) })));

// vmConfig: the shipped example and a few near-misses.
put('vmConfig', 'example', readFileSync(join(import.meta.dirname, '../examples/vm-config.json')));
put(
  'vmConfig',
  'one-nic',
  new TextEncoder().encode(JSON.stringify({ net: [{ id: 'net0', backend: 'virtio-net', mac: '52:54:00:00:00:01', 'virtio-net': { tap: 't0' } }] })),
);
put('vmConfig', 'proto-key', new TextEncoder().encode('{"net":[{"id":"n","backend":"virtio-net","__proto__":{"x":1},"virtio-net":{"tap":"t"}}]}'));
put(
  'vmConfig',
  'dup-ids',
  new TextEncoder().encode(
    '{"net":[{"id":"a","backend":"vhost-user","vhost-user":{"socket":"/s"}},{"id":"a","backend":"vhost-user","vhost-user":{"socket":"/s"}}]}',
  ),
);

// mmioTransport: a driver bring-up (ACK, DRIVER, features, FEATURES_OK, queue 0, DRIVER_OK), then a reset.
{
  const ops: number[] = [];
  const acc = (write: boolean, off: number, value = 0): void => {
    ops.push((write ? 1 : 0) | (2 << 1), off / 2, value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
  };
  acc(false, 0x000);
  acc(false, 0x004);
  acc(false, 0x008);
  acc(true, 0x070, 1);
  acc(true, 0x070, 3);
  acc(true, 0x014, 0);
  acc(false, 0x010);
  acc(true, 0x014, 1);
  acc(false, 0x010);
  acc(true, 0x024, 0);
  acc(true, 0x020, 0x0000_0020);
  acc(true, 0x024, 1);
  acc(true, 0x020, 1);
  acc(true, 0x070, 11);
  acc(false, 0x070);
  acc(true, 0x030, 0);
  acc(false, 0x034);
  acc(true, 0x038, 256);
  acc(true, 0x080, 0x1000);
  acc(true, 0x090, 0x2000);
  acc(true, 0x0a0, 0x3000);
  acc(true, 0x044, 1);
  acc(true, 0x070, 15);
  acc(true, 0x050, 0);
  acc(false, 0x060);
  acc(true, 0x064, 1);
  acc(false, 0x100);
  acc(false, 0x104);
  acc(true, 0x070, 0);
  acc(false, 0x070);
  put('mmioTransport', 'bring-up-reset', Uint8Array.from(ops));
}

// frontendMessage: GET_FEATURES, SET_FEATURES with its u64, SET_VRING_NUM, then a truncated header.
{
  const msg = (request: number, payload: Uint8Array): number[] => {
    const h = new DataView(new ArrayBuffer(12));
    h.setUint32(0, request, true);
    h.setUint32(4, 1, true);
    h.setUint32(8, payload.length, true);
    return [...new Uint8Array(h.buffer), ...payload];
  };
  put(
    'frontendMessage',
    'three-messages',
    Uint8Array.from([...msg(1, new Uint8Array(0)), ...msg(2, encodeU64(0x1_0000_0000n)), ...msg(8, encodeVringState({ index: 0, num: 256 }))]),
  );
  put('frontendMessage', 'cut-header', Uint8Array.from([...msg(1, new Uint8Array(0)), 5, 0, 0]));
  put('frontendMessage', 'oversize', Uint8Array.from(msg(5, new Uint8Array(0)).map((b, i) => (i === 10 ? 0x10 : b))));
}
