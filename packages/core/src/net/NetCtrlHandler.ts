import { hasFeature } from '../defs/virtio.ts';
import {
  VIRTIO_NET_ERR,
  VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_RX_EXTRA,
  VIRTIO_NET_F_CTRL_VLAN,
  VIRTIO_NET_F_GUEST_ANNOUNCE,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_NOTF_COAL,
  VIRTIO_NET_F_VQ_NOTF_COAL,
  VIRTIO_NET_OK,
} from '../defs/virtio_net.ts';
import type { NetCtrlCounters } from '../device/NetCtrlCounters.ts';
import type { GuestMemory } from '../memory/GuestMemory.ts';
import { markChainWritten } from '../dirtylog/markChainWritten.ts';
import type { DeviceQueue } from '../queue/DeviceQueue.ts';
import { decodeNetCtrlCommand } from './decodeNetCtrlCommand.ts';
import { guestOffloadFeatures } from './guestOffloadFeatures.ts';
import { initialNetCtrlState } from './initialNetCtrlState.ts';
import type { NetCtrlCommand } from './NetCtrlCommand.ts';
import type { NetCtrlState } from './NetCtrlState.ts';
import type { NetNotfCoal } from './NetNotfCoal.ts';
import { notfCoalOf } from './notfCoalOf.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const ACK_OK = Uint8Array.of(VIRTIO_NET_OK);
const ACK_ERR = Uint8Array.of(VIRTIO_NET_ERR);

/**
 * What a NetCtrlHandler asks of the device it serves: the backend's reactions to accepted
 * commands (false or a throw makes the ack VIRTIO_NET_ERR and rolls the state back), the
 * announce flag and config-space refresh it shares with the device, and where warnings go.
 */
export interface NetCtrlHost {
  /** Queue pairs the device offers (VQ_PAIRS_SET above it is refused). */
  readonly queuePairs: number;
  /** VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET accepted. */
  onActivePairsChanged(pairs: number): boolean | void;
  /** VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET accepted. */
  onGuestOffloadsChanged(offloads: bigint): boolean | void;
  /** RX mode, MAC table or VLAN filter changed. */
  onRxFilterChanged(): boolean | void;
  /** VIRTIO_NET_CTRL_MAC_ADDR_SET accepted. */
  onMacChanged(mac: Uint8Array): boolean | void;
  /** VIRTIO_NET_CTRL_NOTF_COAL_* (or a VQ_PAIRS_SET that disabled queues) changed the coalescing parameters. */
  onNotfCoalChanged?(coal: NetNotfCoal): boolean | void;
  /** VIRTIO_NET_CTRL_ANNOUNCE_ACK: clears a pending announce; false when none was pending. */
  ackAnnounce(): boolean;
  /** The default MAC in the state changed: config space must be re-encoded. */
  macUpdated(): void;
  /** A backend refused or failed a command. */
  warn(message: string): void;
}

/**
 * The virtio-net control queue's command logic (virtio 1.2 §5.1.6.5), written once for every
 * backend: decodes each command, checks it against the acked features, applies it to the control
 * state (RX mode, MAC tables, default MAC, VLAN filter, active queue pairs, guest offloads), runs
 * the backend's hook, acks OK/ERR and counts. The device core owns one per device.
 */
export class NetCtrlHandler {
  /** Entries each MAC filter table keeps (as QEMU's MAC_TABLE_ENTRIES); more set the overflow flag. */
  static readonly MAC_TABLE_ENTRIES = 64;
  /** Largest device-readable part of a control command read (1 MiB); larger chains are acked ERR. */
  static readonly MAX_CTRL_COMMAND_SIZE = 1 << 20;

  readonly #host: NetCtrlHost;
  readonly #defaultMac: Uint8Array;
  #acked = 0n;
  #state: Mutable<NetCtrlState>;
  readonly #counters: Mutable<NetCtrlCounters> = { commands: 0, ok: 0, err: 0, malformed: 0 };

  /**
   * @param host the device the commands act on
   * @param defaultMac the configured MAC (the state's MAC after every reset)
   */
  constructor(host: NetCtrlHost, defaultMac: Uint8Array) {
    this.#host = host;
    this.#defaultMac = defaultMac.slice();
    this.#state = this.#initial(0n);
  }

  /** The control state (a live read-only view; replaced by `reset`). */
  get state(): NetCtrlState {
    return this.#state;
  }

  /** Counters (a snapshot; they survive resets). */
  get counters(): NetCtrlCounters {
    return { ...this.#counters };
  }

  /** Starts over for `features` (0n: not negotiated): promiscuous, no tables, 1 pair, every VLAN unless CTRL_VLAN. */
  reset(features: bigint): void {
    this.#acked = features;
    this.#state = this.#initial(features);
  }

  /**
   * Takes over a saved state (device restore): the acked `features`, a control state already
   * checked against them (a copy is kept) and the counters to continue from.
   */
  restore(features: bigint, state: NetCtrlState, counters: NetCtrlCounters): void {
    this.#acked = features;
    this.#state = {
      ...state,
      mac: state.mac.slice(),
      unicast: state.unicast.map((m) => m.slice()),
      multicast: state.multicast.map((m) => m.slice()),
      vlans: state.vlans.slice(),
      notfCoal: { tx: { ...state.notfCoal.tx }, rx: { ...state.notfCoal.rx }, vqs: state.notfCoal.vqs.map((v) => ({ ...v })) },
    };
    Object.assign(this.#counters, { commands: counters.commands, ok: counters.ok, err: counters.err, malformed: counters.malformed });
  }

  /**
   * Handles every available command: pops the chains, decodes the readable part, applies it,
   * writes the one-byte ack at the start of the writable part and returns the chain with used
   * length 1. A chain without a writable byte is returned with used length 0 and counted
   * malformed. Returns whether the guest must be notified.
   */
  process(mem: GuestMemory, queue: DeviceQueue): boolean {
    for (let chain = queue.pop(mem); chain !== undefined; chain = queue.pop(mem)) {
      this.#counters.commands++;
      if (chain.writableLength < 1) {
        this.#counters.malformed++;
        queue.addUsed(mem, chain.head, 0);
        continue;
      }
      let ok = false;
      let result: Uint8Array | undefined;
      if (chain.readableLength > NetCtrlHandler.MAX_CTRL_COMMAND_SIZE) {
        this.#counters.malformed++;
      } else {
        const decoded = decodeNetCtrlCommand(chain.readAll(mem));
        if (decoded.ok) {
          const r = this.#apply(decoded.command);
          ok = r !== false;
          if (r instanceof Uint8Array) {
            // command-specific-result after the ack: no room for it is an error (nothing applied).
            if (chain.writableLength < 1 + r.length) ok = false;
            else result = r;
          }
        } else this.#counters.malformed++;
      }
      if (ok) this.#counters.ok++;
      else this.#counters.err++;
      const written = result === undefined ? chain.writeFrom(mem, ok ? ACK_OK : ACK_ERR) : chain.writeFrom(mem, withAck(result));
      if (queue.dirtyLog !== null) markChainWritten(queue.dirtyLog, chain, written);
      queue.addUsed(mem, chain.head, written);
    }
    return queue.needsNotification(mem);
  }

  /** Applies `cmd`: false (ERR), true (OK) or the command-specific-result to write after an OK ack. */
  #apply(cmd: NetCtrlCommand): boolean | Uint8Array {
    const acked = this.#acked;
    const s = this.#state;
    const h = this.#host;
    switch (cmd.kind) {
      case 'rx-mode': {
        const need = cmd.mode === 'promisc' || cmd.mode === 'allmulti' ? VIRTIO_NET_F_CTRL_RX : VIRTIO_NET_F_CTRL_RX_EXTRA;
        if (!hasFeature(acked, need)) return false;
        const prev = s[cmd.mode];
        s[cmd.mode] = cmd.on;
        return this.#commit(
          () => h.onRxFilterChanged(),
          () => (s[cmd.mode] = prev),
        );
      }
      case 'mac-table-set': {
        if (!hasFeature(acked, VIRTIO_NET_F_CTRL_RX)) return false;
        const prev = { unicast: s.unicast, multicast: s.multicast, uniOverflow: s.uniOverflow, multiOverflow: s.multiOverflow };
        const max = NetCtrlHandler.MAC_TABLE_ENTRIES;
        s.uniOverflow = cmd.unicast.length > max;
        s.multiOverflow = cmd.multicast.length > max;
        s.unicast = s.uniOverflow ? [] : cmd.unicast.map((m) => m.slice());
        s.multicast = s.multiOverflow ? [] : cmd.multicast.map((m) => m.slice());
        return this.#commit(
          () => h.onRxFilterChanged(),
          () => Object.assign(s, prev),
        );
      }
      case 'mac-addr-set': {
        if (!hasFeature(acked, VIRTIO_NET_F_CTRL_MAC_ADDR)) return false;
        const prev = s.mac;
        const mac = cmd.mac.slice();
        s.mac = mac;
        h.macUpdated();
        return this.#commit(
          () => h.onMacChanged(mac.slice()),
          () => {
            s.mac = prev;
            h.macUpdated();
          },
        );
      }
      case 'vlan-add':
      case 'vlan-del': {
        if (!hasFeature(acked, VIRTIO_NET_F_CTRL_VLAN)) return false;
        const word = cmd.vid >>> 5;
        const prev = s.vlans[word]!;
        const bit = 1 << (cmd.vid & 31);
        s.vlans[word] = cmd.kind === 'vlan-add' ? prev | bit : prev & ~bit;
        return this.#commit(
          () => h.onRxFilterChanged(),
          () => (s.vlans[word] = prev),
        );
      }
      case 'announce-ack':
        // As QEMU: an ack without a pending announce is an error.
        return hasFeature(acked, VIRTIO_NET_F_GUEST_ANNOUNCE) && h.ackAnnounce();
      case 'mq-vq-pairs-set': {
        if (!hasFeature(acked, VIRTIO_NET_F_MQ) || cmd.pairs > h.queuePairs) return false;
        const prev = s.activePairs;
        const prevCoal = s.notfCoal;
        s.activePairs = cmd.pairs;
        // Disabled queues lose their VQ_SET parameters: re-enabled, they run with TX_SET / RX_SET's (§5.1.6.5.9).
        const kept = prevCoal.vqs.filter((v) => v.vqn < 2 * cmd.pairs);
        if (kept.length !== prevCoal.vqs.length) s.notfCoal = { ...prevCoal, vqs: kept };
        return this.#commit(
          () => h.onActivePairsChanged(cmd.pairs) !== false && (s.notfCoal === prevCoal || h.onNotfCoalChanged?.(s.notfCoal) !== false),
          () => {
            s.activePairs = prev;
            s.notfCoal = prevCoal;
          },
        );
      }
      case 'guest-offloads-set': {
        if (!hasFeature(acked, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS)) return false;
        if ((cmd.offloads & ~guestOffloadFeatures(acked)) !== 0n) return false;
        const prev = s.guestOffloads;
        s.guestOffloads = cmd.offloads;
        return this.#commit(
          () => h.onGuestOffloadsChanged(cmd.offloads),
          () => (s.guestOffloads = prev),
        );
      }
      case 'notf-coal-set':
      case 'notf-coal-vq-set': {
        const vq = cmd.kind === 'notf-coal-vq-set';
        if (!hasFeature(acked, vq ? VIRTIO_NET_F_VQ_NOTF_COAL : VIRTIO_NET_F_NOTF_COAL)) return false;
        if (vq && cmd.vqn >= 2 * s.activePairs) return false; // not an enabled data queue
        const prev = s.notfCoal;
        const params = { maxPackets: cmd.maxPackets, maxUsecs: cmd.maxUsecs };
        if (vq) {
          const vqs = prev.vqs.filter((v) => v.vqn !== cmd.vqn);
          vqs.push({ vqn: cmd.vqn, ...params });
          vqs.sort((a, b) => a.vqn - b.vqn);
          s.notfCoal = { ...prev, vqs };
        } else {
          // The last command for a queue wins: TX_SET / RX_SET override the VQ_SET of every queue of theirs.
          const parity = cmd.direction === 'rx' ? 0 : 1;
          s.notfCoal = { ...prev, [cmd.direction]: params, vqs: prev.vqs.filter((v) => v.vqn % 2 !== parity) };
        }
        return this.#commit(
          () => h.onNotfCoalChanged?.(s.notfCoal),
          () => (s.notfCoal = prev),
        );
      }
      case 'notf-coal-vq-get': {
        if (!hasFeature(acked, VIRTIO_NET_F_VQ_NOTF_COAL) || cmd.vqn >= 2 * s.activePairs) return false;
        const p = notfCoalOf(s.notfCoal, cmd.vqn);
        const out = new Uint8Array(8);
        const v = new DataView(out.buffer);
        v.setUint32(0, p.maxPackets, true);
        v.setUint32(4, p.maxUsecs, true);
        return out;
      }
    }
  }

  /** Runs a backend hook; on false or a throw, undoes the state change and reports it. */
  #commit(hook: () => boolean | void, undo: () => unknown): boolean {
    let accepted: boolean;
    try {
      accepted = hook() !== false;
      if (!accepted) this.#host.warn('backend refused a control command');
    } catch (err) {
      accepted = false;
      this.#host.warn(`backend failed a control command: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!accepted) undo();
    return accepted;
  }

  #initial(features: bigint): Mutable<NetCtrlState> {
    return { ...initialNetCtrlState(this.#defaultMac.slice(), features) };
  }
}

function withAck(result: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + result.length);
  out[0] = VIRTIO_NET_OK;
  out.set(result, 1);
  return out;
}
