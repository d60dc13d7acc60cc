import * as virtio from '../../defs/virtio.ts';
import * as virtio_net from '../../defs/virtio_net.ts';

const NAMES = new Map<number, string>();
for (const defs of [virtio, virtio_net] as const) {
  for (const [name, value] of Object.entries(defs)) {
    if (/^VIRTIO_(NET_)?F_/.test(name) && typeof value === 'number') NAMES.set(value, name);
  }
}

/** The feature bits of `mask` by spec name (`VIRTIO_NET_F_MQ, bit 41`), comma-separated. */
export function featureNames(mask: bigint): string {
  const out: string[] = [];
  for (let bit = 0; mask >> BigInt(bit) !== 0n; bit++) {
    if (((mask >> BigInt(bit)) & 1n) === 1n) out.push(NAMES.get(bit) ?? `bit ${bit}`);
  }
  return out.join(', ');
}
