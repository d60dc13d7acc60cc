import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_NET_OFFLOADS,
  DriverQueue,
  encodeNetCtrlCommand,
  featureBit,
  hasFeature,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_VERSION_1,
  virtio_net as N,
  type NetCtrlCommand,
  type NetDeviceBase,
  type NetDeviceConfig,
  type QueueContext,
} from '@vnic/core';
import { EventFd, MemfdGuestMemory } from '@vnic/sys';
import { decodeU64, decodeVringAddr, decodeVringState } from '@vnic/vhost-user-protocol';
import {
  VHOST_USER_F_PROTOCOL_FEATURES,
  VHOST_USER_PROTOCOL_F_MQ,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_PROTOCOL_F_STATUS,
} from '@vnic/vhost-user-protocol/vhost_user';
import { afterAll, afterEach } from 'vitest';
import type { BackendScript, ScriptedMessage } from './ScriptedVhostUserBackend.ts';

// Spec support for the VhostUserNetDevice specs run against ScriptedVhostUserBackend: the VMM
// side of a device (memfd guest memory, eventfds, ring addresses, a control queue driven through
// its kick), the NIC config, a DPDK-like backend script, a socket directory, cleanups, and a
// wait for a condition.

/** A DPDK-like offer: VERSION_1, EVENT_IDX, MRG_RXBUF, CSUM, GUEST_CSUM, MQ, PROTOCOL_FEATURES. */
export const BACKEND_OFFER = [
  VIRTIO_F_VERSION_1,
  VIRTIO_F_EVENT_IDX,
  N.VIRTIO_NET_F_MRG_RXBUF,
  N.VIRTIO_NET_F_CSUM,
  N.VIRTIO_NET_F_GUEST_CSUM,
  N.VIRTIO_NET_F_MQ,
  VHOST_USER_F_PROTOCOL_FEATURES,
].reduce((m, b) => m | featureBit(b), 0n);
/** Protocol features it offers: MQ, REPLY_ACK, STATUS. */
export const BACKEND_PROTOCOL = featureBit(VHOST_USER_PROTOCOL_F_MQ) | featureBit(VHOST_USER_PROTOCOL_F_REPLY_ACK) | featureBit(VHOST_USER_PROTOCOL_F_STATUS);
/** That backend with two queue pairs. */
export const BACKEND_SCRIPT: BackendScript = { features: () => BACKEND_OFFER, protocolFeatures: BACKEND_PROTOCOL, queueNum: 2 };

/** The ring a SET_VRING_* / GET_VRING_BASE message names. */
export function ringOf(m: ScriptedMessage): number {
  if (m.request === 'SET_VRING_ADDR') return decodeVringAddr(m.payload).index;
  if (/KICK|CALL|ERR/.test(m.request)) return Number(decodeU64(m.payload) & 0xffn);
  return decodeVringState(m.payload).index;
}

/** A list of cleanups run (last first) after each test of the file. */
export function cleanups(): (c: () => unknown) => void {
  const list: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of list.splice(0).reverse()) await c();
  });
  return (c) => list.push(c);
}

/** Waits (polling every 5 ms) until `cond` holds; throws naming `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A temporary directory for sockets, removed after the file's tests. */
export function socketDir(prefix: string): { path(name: string): string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return { path: (name) => join(dir, name) };
}

/** A vhost-user NIC with `pairs` queue pairs, queues of 64, a control queue. */
export function nicConfig(pairs: number): NetDeviceConfig {
  return {
    id: 'vu-rig',
    backend: 'vhost-user',
    mac: Uint8Array.of(0x52, 0x54, 0, 0x7e, 0x41, 1),
    queuePairs: pairs,
    queueSize: 64,
    mtu: 1500,
    offloads: DEFAULT_NET_OFFLOADS,
    mrgRxbuf: true,
    eventIdx: true,
    indirectDesc: true,
    ctrlVq: true,
    options: {},
  };
}

const RAM_BASE = 0x10_0000;
const QUEUE_SIZE = 64;
const CMD = RAM_BASE + 0x8_0000;

/** The VMM around a device: memfd guest memory, a kick and a call eventfd per queue, the control queue's driver side. */
export class GuestRig {
  /** Guest RAM (1 MiB at 1 MiB). */
  readonly memory = MemfdGuestMemory.create({ regions: [{ guestPhysAddr: RAM_BASE, size: 1 << 20 }], name: 'vnic-vu-rig' });
  /** The data queues handed to activate (2 per pair). */
  readonly dataQueues: QueueContext[] = [];
  /** The control queue (index 2 * pairs). */
  readonly ctrlQueue: QueueContext;
  readonly #dev: NetDeviceBase;
  readonly #fds = new Map<number, { kick: EventFd; call: EventFd }>();
  #ctrl: DriverQueue | undefined;

  constructor(dev: NetDeviceBase, pairs: number) {
    this.#dev = dev;
    const queue = (index: number): QueueContext => {
      const l = DriverQueue.layout(RAM_BASE + 0x4000 * index, QUEUE_SIZE);
      const fds = { kick: EventFd.create({ nonBlocking: true }), call: EventFd.create({ nonBlocking: true }) };
      this.#fds.set(index, fds);
      return { index, size: QUEUE_SIZE, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, kickFd: fds.kick.fd, callFd: fds.call.fd };
    };
    for (let i = 0; i < 2 * pairs; i++) this.dataQueues.push(queue(i));
    this.ctrlQueue = queue(2 * pairs);
  }

  /** Reads an eventfd by its number (one the backend received), without taking it over. */
  static readCounter(fd: number): bigint | undefined {
    return EventFd.fromFd(fd).read();
  }

  /** Adds `n` to an eventfd by its number (one the backend received). */
  static writeCounter(fd: number, n: bigint): void {
    EventFd.fromFd(fd).write(n);
  }

  /** The VMM's kick eventfd of queue `index`. */
  kickOf(index: number): EventFd {
    return this.#fds.get(index)!.kick;
  }

  /** The VMM's call eventfd of queue `index`. */
  callOf(index: number): EventFd {
    return this.#fds.get(index)!.call;
  }

  /** Acks every offered feature and activates the device with every queue (DRIVER_OK). */
  async activate(): Promise<void> {
    if (!this.#dev.setDriverFeatures(this.#dev.deviceFeatures)) throw new Error('the device refused its own offer');
    const c = this.ctrlQueue;
    const eventIdx = hasFeature(this.#dev.ackedFeatures, VIRTIO_F_EVENT_IDX);
    this.#ctrl = new DriverQueue({ size: c.size, descTable: c.descTable, availRing: c.availRing, usedRing: c.usedRing, eventIdx });
    this.#ctrl.init(this.memory.memory);
    await this.#dev.activate({ features: this.#dev.ackedFeatures, memory: this.memory.layout, queues: [...this.dataQueues, this.ctrlQueue] });
  }

  /** Writes used->idx of ring `q` in guest memory (what a backend that used buffers leaves). */
  setUsedIdx(q: QueueContext, idx: number): void {
    this.memory.memory.write(q.usedRing + 2, Uint8Array.of(idx & 0xff, idx >> 8));
  }

  /** Sends one control command (readable command + one ack byte), kicks, waits for the interrupt and returns the ack. */
  async ctrl(cmd: NetCtrlCommand): Promise<number> {
    const q = this.#ctrl;
    if (q === undefined) throw new Error('activate first');
    const mem = this.memory.memory;
    const bytes = encodeNetCtrlCommand(cmd);
    mem.write(CMD, bytes);
    mem.write(CMD + 0x100, Uint8Array.of(0xff));
    q.add(mem, [
      { addr: CMD, len: bytes.length, writable: false },
      { addr: CMD + 0x100, len: 1, writable: true },
    ]);
    q.publish(mem);
    q.enableInterrupts(mem); // EVENT_IDX: used_event follows what was taken
    this.kickOf(this.ctrlQueue.index).write(1n);
    const call = this.callOf(this.ctrlQueue.index);
    await until(() => call.read() !== undefined, 'the control queue interrupt');
    const used = q.popUsed(mem);
    if (used === undefined) throw new Error('interrupt without a used control command');
    return mem.read(CMD + 0x100, 1)![0]!;
  }

  /** Closes the eventfds and the guest memory (after the device is reset or closed). */
  close(): void {
    for (const { kick, call } of this.#fds.values()) {
      kick.close();
      call.close();
    }
    this.#fds.clear();
    this.memory.close();
  }
}
