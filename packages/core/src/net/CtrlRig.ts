import { GuestMemory } from '../memory/GuestMemory.ts';
import { DriverQueue, type DriverBuffer } from '../queue/DriverQueue.ts';
import { SplitQueue } from '../queue/SplitQueue.ts';
import { encodeNetCtrlCommand } from './encodeNetCtrlCommand.ts';
import type { NetCtrlCommand } from './NetCtrlCommand.ts';

/**
 * TEST-ONLY: a control queue in plain guest memory for the pure unit specs of the control-queue
 * logic (NetCtrlHandler, NetDeviceBase): the driver side is a DriverQueue, the device side a
 * SplitQueue handed to `process` (what the device core's ControlQueue calls on a kick). No fds.
 * Not exported from the barrel.
 */
export class CtrlRig {
  /** Guest memory base (the ring is at the base, buffers from base + 0x2000). */
  static readonly BASE = 0x10000;
  /** The guest memory (its size is `bytes`). */
  readonly mem: GuestMemory;
  /** The driver side of the ring. */
  readonly drv: DriverQueue;
  /** The device side of the ring. */
  readonly queue: SplitQueue;
  readonly #process: (mem: GuestMemory, queue: SplitQueue) => boolean;
  #next = CtrlRig.BASE + 0x2000;

  /**
   * @param process services the control queue (NetCtrlHandler.process, NetDeviceBase.processControlQueue); returns whether to notify
   * @param bytes guest memory size (default 64 KiB)
   */
  constructor(process: (mem: GuestMemory, queue: SplitQueue) => boolean, bytes = 0x10000) {
    this.#process = process;
    this.mem = new GuestMemory([{ guestPhysAddr: CtrlRig.BASE, bytes: new Uint8Array(bytes) }]);
    const l = DriverQueue.layout(CtrlRig.BASE, 16);
    this.drv = new DriverQueue({ size: 16, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: false });
    this.drv.init(this.mem);
    this.queue = new SplitQueue({ size: 16, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: false, indirectDesc: false });
  }

  /** Copies `bytes` (or that many 0xee bytes) into fresh guest memory and returns a buffer over it. */
  buf(bytes: Uint8Array | number, writable = false): DriverBuffer {
    const data = typeof bytes === 'number' ? new Uint8Array(bytes).fill(0xee) : bytes;
    const addr = this.#next;
    this.#next += (data.length + 15) & ~15;
    this.mem.write(addr, data);
    return { addr, len: data.length, writable };
  }

  /** Sends one command (one readable buffer + one ack byte) and returns the ack, the used length and whether the device asked to notify. */
  send(cmd: NetCtrlCommand | Uint8Array): { ack: number; len: number; notify: boolean } {
    const out = this.buf(cmd instanceof Uint8Array ? cmd : encodeNetCtrlCommand(cmd));
    const ack = this.buf(1, true);
    return this.run([out, ack], ack.addr);
  }

  /** Posts one chain of `buffers`, lets the device process the queue and returns what came back (ack -1 without `ackAddr`). */
  run(buffers: DriverBuffer[], ackAddr: number | undefined): { ack: number; len: number; notify: boolean } {
    this.drv.add(this.mem, buffers);
    this.drv.publish(this.mem);
    const notify = this.#process(this.mem, this.queue);
    const used = this.drv.popUsed(this.mem);
    if (used === undefined) throw new Error('the device did not return the chain');
    const ack = ackAddr === undefined ? -1 : this.mem.read(ackAddr, 1)![0]!;
    return { ack, len: used.len, notify };
  }

  /** Lets the device process whatever is posted; returns whether it asked to notify. */
  process(): boolean {
    return this.#process(this.mem, this.queue);
  }
}
