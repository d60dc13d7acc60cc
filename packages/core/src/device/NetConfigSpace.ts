import { VIRTIO_NET_S_ANNOUNCE, VIRTIO_NET_S_LINK_UP } from '../defs/virtio_net.ts';
import { encodeVirtioNetConfig } from '../net/encodeVirtioNetConfig.ts';
import { VIRTIO_NET_DUPLEX_UNKNOWN, VIRTIO_NET_SPEED_UNKNOWN } from '../net/VirtioNetConfig.ts';

const MAX_CONFIG_READ = 0x1000;

/** What config space shows (§5.1.4). */
export interface NetConfigFields {
  readonly mac: Uint8Array;
  readonly linkUp: boolean;
  readonly announce: boolean;
  readonly maxVirtqueuePairs: number;
  readonly mtu: number;
}

/**
 * virtio-net config space: the encoded bytes and a generation that moves (u32) only when a byte
 * changed. Reads outside it return 0; it is read-only for a VERSION_1 driver (§5.1.4.2).
 */
export class NetConfigSpace {
  #bytes: Uint8Array;
  #generation = 0;

  constructor(fields: NetConfigFields) {
    this.#bytes = encode(fields);
  }

  /** The config generation. */
  get generation(): number {
    return this.#generation;
  }

  /** Re-encodes; bumps the generation when a byte changed. */
  update(fields: NetConfigFields): void {
    const next = encode(fields);
    const prev = this.#bytes;
    if (next.every((b, i) => b === prev[i])) return;
    this.#bytes = next;
    this.#generation = (this.#generation + 1) >>> 0;
  }

  /** `length` bytes at `offset`; bytes outside read 0, bad lengths give an empty array. */
  read(offset: number, length: number): Uint8Array {
    if (!Number.isInteger(length) || length < 0 || length > MAX_CONFIG_READ) return new Uint8Array(0);
    const out = new Uint8Array(length);
    if (!Number.isInteger(offset)) return out;
    const src = this.#bytes;
    for (let i = 0; i < length; i++) {
      const at = offset + i;
      if (at >= 0 && at < src.length) out[i] = src[at]!;
    }
    return out;
  }
}

function encode(f: NetConfigFields): Uint8Array {
  return encodeVirtioNetConfig({
    mac: f.mac,
    status: (f.linkUp ? VIRTIO_NET_S_LINK_UP : 0) | (f.announce ? VIRTIO_NET_S_ANNOUNCE : 0),
    maxVirtqueuePairs: f.maxVirtqueuePairs,
    mtu: f.mtu,
    speed: VIRTIO_NET_SPEED_UNKNOWN,
    duplex: VIRTIO_NET_DUPLEX_UNKNOWN,
  });
}
