import { virtio, virtio_net } from '@vnic/core';
import { vhost_user } from '@vnic/vhost-user-protocol';

function namesOf(defs: Readonly<Record<string, unknown>>, prefixes: readonly string[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const [name, value] of Object.entries(defs)) {
    const p = prefixes.find((x) => name.startsWith(x));
    if (p !== undefined && typeof value === 'number') out.set(value, name.slice(p.length));
  }
  return out;
}

const FEATURES = new Map([
  ...namesOf(virtio, ['VIRTIO_F_', 'VIRTIO_RING_F_']),
  ...namesOf(virtio_net, ['VIRTIO_NET_F_']),
  [vhost_user.VHOST_USER_F_PROTOCOL_FEATURES, 'PROTOCOL_FEATURES'],
]);
const PROTOCOL_FEATURES = namesOf(vhost_user, ['VHOST_USER_PROTOCOL_F_']);

function describe(bits: bigint, names: Map<number, string>): string {
  const out: string[] = [];
  for (let b = 0; b < 64; b++) if (((bits >> BigInt(b)) & 1n) !== 0n) out.push(names.get(b) ?? `bit${b}`);
  return out.join(' ');
}

/** Virtio feature bits by spec name without prefix (`VERSION_1 MRG_RXBUF PROTOCOL_FEATURES`), unknown bits as `bitN`. */
export function describeFeatures(features: bigint): string {
  return describe(features, FEATURES);
}

/** vhost-user protocol feature bits by spec name without prefix (`MQ REPLY_ACK`). */
export function describeProtocolFeatures(features: bigint): string {
  return describe(features, PROTOCOL_FEATURES);
}
