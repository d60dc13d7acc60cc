import * as N from '../defs/virtio_net.ts';
import { NOTF_COAL_MAX_USECS } from './NOTF_COAL_MAX_USECS.ts';
import type { NetCtrlCommand } from './NetCtrlCommand.ts';
import type { NetCtrlDecodeResult } from './NetCtrlDecodeResult.ts';
import { NetCtrlError, type NetCtrlErrorMessage } from './NetCtrlError.ts';
import type { NetCtrlRxMode } from './NetCtrlRxMode.ts';

const RX_MODES: readonly NetCtrlRxMode[] = ['promisc', 'allmulti', 'alluni', 'nomulti', 'nouni', 'nobcast'];
const ETH_ALEN = 6;
const VLAN_N_VID = 4096;

/**
 * Decodes the device-readable bytes of a control-queue chain (virtio 1.2 §5.1.6.5: u8 class,
 * u8 command, command-specific-data; the ack lives in the writable part). Every length is checked
 * exactly: trailing bytes are an error as much as missing ones. Never throws on guest input.
 */
export function decodeNetCtrlCommand(bytes: Uint8Array): NetCtrlDecodeResult {
  if (bytes.length < 2) return fail(NetCtrlError.TOO_SHORT, bytes[0], undefined);
  const cls = bytes[0]!;
  const cmd = bytes[1]!;
  const data = bytes.subarray(2);
  const ok = (command: NetCtrlCommand): NetCtrlDecodeResult => ({ ok: true, command });
  const bad = (error: NetCtrlErrorMessage): NetCtrlDecodeResult => fail(error, cls, cmd);

  switch (cls) {
    case N.VIRTIO_NET_CTRL_RX: {
      const mode = RX_MODES[cmd];
      if (mode === undefined) return bad(NetCtrlError.UNKNOWN_COMMAND);
      if (data.length !== 1) return bad(NetCtrlError.BAD_LENGTH);
      const on = data[0]!;
      if (on > 1) return bad(NetCtrlError.BAD_ON_OFF);
      return ok({ kind: 'rx-mode', mode, on: on === 1 });
    }
    case N.VIRTIO_NET_CTRL_MAC: {
      if (cmd === N.VIRTIO_NET_CTRL_MAC_ADDR_SET) {
        if (data.length !== ETH_ALEN) return bad(NetCtrlError.BAD_LENGTH);
        return ok({ kind: 'mac-addr-set', mac: data.slice() });
      }
      if (cmd !== N.VIRTIO_NET_CTRL_MAC_TABLE_SET) return bad(NetCtrlError.UNKNOWN_COMMAND);
      // struct virtio_net_ctrl_mac { le32 entries; u8 macs[entries][6]; } twice.
      const unicast = readMacTable(data, 0);
      if (unicast === undefined) return bad(NetCtrlError.MAC_TABLE_LENGTH);
      const multicast = readMacTable(data, 4 + ETH_ALEN * unicast.length);
      if (multicast === undefined) return bad(NetCtrlError.MAC_TABLE_LENGTH);
      if (data.length !== 8 + ETH_ALEN * (unicast.length + multicast.length)) return bad(NetCtrlError.MAC_TABLE_LENGTH);
      return ok({ kind: 'mac-table-set', unicast, multicast });
    }
    case N.VIRTIO_NET_CTRL_VLAN: {
      if (cmd !== N.VIRTIO_NET_CTRL_VLAN_ADD && cmd !== N.VIRTIO_NET_CTRL_VLAN_DEL) return bad(NetCtrlError.UNKNOWN_COMMAND);
      if (data.length !== 2) return bad(NetCtrlError.BAD_LENGTH);
      const vid = data[0]! | (data[1]! << 8);
      if (vid >= VLAN_N_VID) return bad(NetCtrlError.VLAN_ID_RANGE);
      return ok({ kind: cmd === N.VIRTIO_NET_CTRL_VLAN_ADD ? 'vlan-add' : 'vlan-del', vid });
    }
    case N.VIRTIO_NET_CTRL_ANNOUNCE: {
      if (cmd !== N.VIRTIO_NET_CTRL_ANNOUNCE_ACK) return bad(NetCtrlError.UNKNOWN_COMMAND);
      if (data.length !== 0) return bad(NetCtrlError.BAD_LENGTH);
      return ok({ kind: 'announce-ack' });
    }
    case N.VIRTIO_NET_CTRL_MQ: {
      if (cmd !== N.VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET) return bad(NetCtrlError.UNKNOWN_COMMAND);
      if (data.length !== 2) return bad(NetCtrlError.BAD_LENGTH);
      const pairs = data[0]! | (data[1]! << 8);
      if (pairs < N.VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > N.VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX) return bad(NetCtrlError.VQ_PAIRS_RANGE);
      return ok({ kind: 'mq-vq-pairs-set', pairs });
    }
    case N.VIRTIO_NET_CTRL_GUEST_OFFLOADS: {
      if (cmd !== N.VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET) return bad(NetCtrlError.UNKNOWN_COMMAND);
      if (data.length !== 8) return bad(NetCtrlError.BAD_LENGTH);
      const v = new DataView(data.buffer, data.byteOffset, 8);
      return ok({ kind: 'guest-offloads-set', offloads: v.getBigUint64(0, true) });
    }
    case N.VIRTIO_NET_CTRL_NOTF_COAL: {
      // struct virtio_net_ctrl_coal { le32 max_packets; le32 max_usecs; } (virtio 1.3 §5.1.6.5.9).
      const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
      if (cmd === N.VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET) {
        // vq_index + reserved; Linux (6.10+) sends vq_index alone: both are taken.
        if (data.length !== 2 && data.length !== 4) return bad(NetCtrlError.BAD_LENGTH);
        return ok({ kind: 'notf-coal-vq-get', vqn: v.getUint16(0, true) });
      }
      const at = cmd === N.VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET ? 4 : 0;
      if (cmd !== N.VIRTIO_NET_CTRL_NOTF_COAL_TX_SET && cmd !== N.VIRTIO_NET_CTRL_NOTF_COAL_RX_SET && at === 0) return bad(NetCtrlError.UNKNOWN_COMMAND);
      if (data.length !== at + 8) return bad(NetCtrlError.BAD_LENGTH);
      const maxPackets = v.getUint32(at, true);
      const maxUsecs = v.getUint32(at + 4, true);
      if (maxUsecs > NOTF_COAL_MAX_USECS) return bad(NetCtrlError.COAL_USECS_RANGE);
      if (at !== 0) return ok({ kind: 'notf-coal-vq-set', vqn: v.getUint16(0, true), maxPackets, maxUsecs });
      return ok({ kind: 'notf-coal-set', direction: cmd === N.VIRTIO_NET_CTRL_NOTF_COAL_TX_SET ? 'tx' : 'rx', maxPackets, maxUsecs });
    }
    default:
      return bad(NetCtrlError.UNKNOWN_CLASS);
  }
}

function fail(error: NetCtrlErrorMessage, ctrlClass: number | undefined, ctrlCommand: number | undefined): NetCtrlDecodeResult {
  return { ok: false, error, ctrlClass, ctrlCommand };
}

/** One `virtio_net_ctrl_mac` at `offset`, or undefined when its entries run past the data. */
function readMacTable(data: Uint8Array, offset: number): Uint8Array[] | undefined {
  if (data.length - offset < 4) return undefined;
  const entries = (data[offset]! | (data[offset + 1]! << 8) | (data[offset + 2]! << 16) | (data[offset + 3]! << 24)) >>> 0;
  // entries <= 2^32 - 1, so entries * 6 stays an exact Number.
  if (entries * ETH_ALEN > data.length - offset - 4) return undefined;
  const macs: Uint8Array[] = [];
  for (let i = 0, p = offset + 4; i < entries; i++, p += ETH_ALEN) macs.push(data.slice(p, p + ETH_ALEN));
  return macs;
}
