import * as N from '../defs/virtio_net.ts';
import { VnicError } from '../errors/VnicError.ts';
import type { NetCtrlCommand } from './NetCtrlCommand.ts';
import type { NetCtrlRxMode } from './NetCtrlRxMode.ts';

const RX_COMMAND: Readonly<Record<NetCtrlRxMode, number>> = { promisc: 0, allmulti: 1, alluni: 2, nomulti: 3, nouni: 4, nobcast: 5 };

/**
 * Encodes a control-queue command as the driver puts it in the device-readable buffer
 * (virtio 1.2 §5.1.6.5: class, command, command-specific-data; the driver adds one writable byte
 * for the ack). Values are written at their field width without range checks, so a test driver can
 * send out-of-range ids on purpose; values that do not fit the field throw `invalid-argument`.
 */
export function encodeNetCtrlCommand(cmd: NetCtrlCommand): Uint8Array {
  switch (cmd.kind) {
    case 'rx-mode':
      return Uint8Array.of(N.VIRTIO_NET_CTRL_RX, RX_COMMAND[cmd.mode], cmd.on ? 1 : 0);
    case 'mac-addr-set':
      return Uint8Array.of(N.VIRTIO_NET_CTRL_MAC, N.VIRTIO_NET_CTRL_MAC_ADDR_SET, ...mac(cmd.mac));
    case 'mac-table-set': {
      const out = new Uint8Array(2 + 8 + 6 * (cmd.unicast.length + cmd.multicast.length));
      const v = new DataView(out.buffer);
      out[0] = N.VIRTIO_NET_CTRL_MAC;
      out[1] = N.VIRTIO_NET_CTRL_MAC_TABLE_SET;
      let p = 2;
      for (const table of [cmd.unicast, cmd.multicast]) {
        v.setUint32(p, table.length, true);
        p += 4;
        for (const m of table) {
          out.set(mac(m), p);
          p += 6;
        }
      }
      return out;
    }
    case 'vlan-add':
    case 'vlan-del':
      return withU16(N.VIRTIO_NET_CTRL_VLAN, cmd.kind === 'vlan-add' ? N.VIRTIO_NET_CTRL_VLAN_ADD : N.VIRTIO_NET_CTRL_VLAN_DEL, cmd.vid, 'VLAN id');
    case 'announce-ack':
      return Uint8Array.of(N.VIRTIO_NET_CTRL_ANNOUNCE, N.VIRTIO_NET_CTRL_ANNOUNCE_ACK);
    case 'mq-vq-pairs-set':
      return withU16(N.VIRTIO_NET_CTRL_MQ, N.VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, cmd.pairs, 'virtqueue_pairs');
    case 'guest-offloads-set': {
      if (cmd.offloads < 0n || cmd.offloads > 0xffff_ffff_ffff_ffffn) {
        throw new VnicError('invalid-argument', `guest offloads 0x${cmd.offloads.toString(16)} do not fit in 64 bits`);
      }
      const out = new Uint8Array(10);
      out[0] = N.VIRTIO_NET_CTRL_GUEST_OFFLOADS;
      out[1] = N.VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET;
      new DataView(out.buffer).setBigUint64(2, cmd.offloads, true);
      return out;
    }
    case 'notf-coal-set':
    case 'notf-coal-vq-set': {
      const vq = cmd.kind === 'notf-coal-vq-set';
      const out = new Uint8Array(vq ? 14 : 10);
      const v = new DataView(out.buffer);
      out[0] = N.VIRTIO_NET_CTRL_NOTF_COAL;
      out[1] = vq ? N.VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET : cmd.direction === 'tx' ? N.VIRTIO_NET_CTRL_NOTF_COAL_TX_SET : N.VIRTIO_NET_CTRL_NOTF_COAL_RX_SET;
      if (vq) out.set(withU16(0, 0, cmd.vqn, 'vq_index').subarray(2), 2); // reserved stays 0
      v.setUint32(vq ? 6 : 2, u32(cmd.maxPackets, 'max_packets'), true);
      v.setUint32(vq ? 10 : 6, u32(cmd.maxUsecs, 'max_usecs'), true);
      return out;
    }
    case 'notf-coal-vq-get':
      return Uint8Array.of(...withU16(N.VIRTIO_NET_CTRL_NOTF_COAL, N.VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET, cmd.vqn, 'vq_index'), 0, 0);
  }
}

function u32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new VnicError('invalid-argument', `${what} ${value} does not fit in 32 bits`);
  return value;
}

function mac(m: Uint8Array): Uint8Array {
  if (m.length !== 6) throw new VnicError('invalid-argument', `MAC address has ${m.length} bytes, expected 6`);
  return m;
}

function withU16(cls: number, command: number, value: number, what: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new VnicError('invalid-argument', `${what} ${value} does not fit in 16 bits`);
  return Uint8Array.of(cls, command, value & 0xff, value >>> 8);
}
