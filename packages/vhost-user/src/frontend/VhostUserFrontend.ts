import type { GuestMemoryLayout, VhostControlPlane, VhostVringAddr } from '@vnic/core';
import type { VhostUserConnection } from '../connection/VhostUserConnection.ts';
import {
  decodeConfigSpace,
  decodeU64,
  decodeVringState,
  encodeConfigSpace,
  encodeLog,
  encodeMemoryTable,
  encodeU64,
  encodeVringAddr,
  encodeVringState,
  FrontendReq,
} from '@vnic/vhost-user-protocol';
import {
  VHOST_MEMORY_BASELINE_NREGIONS,
  VHOST_USER_CONFIG_HDR_SIZE,
  VHOST_USER_PROTOCOL_F_CONFIG,
  VHOST_USER_PROTOCOL_F_LOG_SHMFD,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_PROTOCOL_F_STATUS,
  VHOST_USER_U64_SIZE,
  VHOST_USER_VRING_IDX_MASK,
  VHOST_USER_VRING_NOFD_MASK,
  VHOST_USER_VRING_STATE_SIZE,
} from '@vnic/vhost-user-protocol/vhost_user';
import { VhostUserError } from '../VhostUserError.ts';

/**
 * The vhost-user frontend: VhostControlPlane (the same interface the kernel vhost backend
 * implements) as vhost-user messages on one connection, plus the vhost-user extras (protocol
 * features, queue count, ring enable, config space, device status). Stateless apart from the
 * negotiated protocol features; errors are VhostUserErrors naming the request.
 */
export class VhostUserFrontend implements VhostControlPlane {
  /** The connection the messages travel on. */
  readonly connection: VhostUserConnection;
  #protocolFeatures = 0n;

  constructor(connection: VhostUserConnection) {
    this.connection = connection;
  }

  /** Protocol features acked with setProtocolFeatures (0n before). */
  get protocolFeatures(): bigint {
    return this.#protocolFeatures;
  }

  /** SET_OWNER. */
  setOwner(): Promise<void> {
    return this.connection.send(FrontendReq.SET_OWNER);
  }

  /** RESET_OWNER (deprecated in vhost-user; backends may ignore it). */
  resetOwner(): Promise<void> {
    return this.connection.send(FrontendReq.RESET_OWNER);
  }

  /** GET_FEATURES: the backend's virtio features (bit 30: protocol features supported). */
  async getFeatures(): Promise<bigint> {
    return decodeU64(await this.connection.call(FrontendReq.GET_FEATURES, undefined, VHOST_USER_U64_SIZE, 'u64 features'));
  }

  /** SET_FEATURES: the acked virtio features (plus VHOST_USER_F_PROTOCOL_FEATURES when negotiated). */
  setFeatures(features: bigint): Promise<void> {
    return this.connection.send(FrontendReq.SET_FEATURES, encodeU64(features));
  }

  /** GET_PROTOCOL_FEATURES. */
  async getProtocolFeatures(): Promise<bigint> {
    return decodeU64(await this.connection.call(FrontendReq.GET_PROTOCOL_FEATURES, undefined, VHOST_USER_U64_SIZE, 'u64 protocol features'));
  }

  /** SET_PROTOCOL_FEATURES; REPLY_ACK applies to the messages after it. */
  async setProtocolFeatures(features: bigint): Promise<void> {
    // Not acked itself: REPLY_ACK is not in force until the backend has read this message.
    await this.connection.send(FrontendReq.SET_PROTOCOL_FEATURES, encodeU64(features), [], false);
    this.#protocolFeatures = features;
    this.connection.replyAck = (features & (1n << BigInt(VHOST_USER_PROTOCOL_F_REPLY_ACK))) !== 0n;
  }

  /** GET_QUEUE_NUM: most queues (for net: queue pairs) the backend supports (with PROTOCOL_F_MQ). */
  async getQueueNum(): Promise<number> {
    const n = decodeU64(await this.connection.call(FrontendReq.GET_QUEUE_NUM, undefined, VHOST_USER_U64_SIZE, 'u64 queue count'));
    return n > 0xffff_ffffn ? 0xffff_ffff : Number(n);
  }

  /**
   * SET_MEM_TABLE: one region per layout region (at most 8), userspace_addr = the VMM's mapping
   * (hostAddr), mmap_offset = fdOffset, each region's memfd attached (SCM_RIGHTS).
   */
  async setMemTable(memory: GuestMemoryLayout): Promise<void> {
    const regions = memory.regions;
    if (regions.length === 0 || regions.length > VHOST_MEMORY_BASELINE_NREGIONS) {
      throw new VhostUserError('invalid-argument', `SET_MEM_TABLE: ${regions.length} regions, vhost-user carries 1..${VHOST_MEMORY_BASELINE_NREGIONS}`);
    }
    regions.forEach((r, i) => {
      if (r.fd < 0)
        throw new VhostUserError(
          'invalid-argument',
          `SET_MEM_TABLE: region ${i} (0x${r.guestPhysAddr.toString(16)}) has no fd: vhost-user needs shareable (memfd) guest memory`,
        );
    });
    const payload = encodeMemoryTable(
      regions.map((r) => ({ guestPhysAddr: BigInt(r.guestPhysAddr), memorySize: BigInt(r.size), userspaceAddr: r.hostAddr, mmapOffset: BigInt(r.fdOffset) })),
    );
    return this.connection.send(
      FrontendReq.SET_MEM_TABLE,
      payload,
      regions.map((r) => r.fd),
    );
  }

  /**
   * SET_LOG_BASE with PROTOCOL_F_LOG_SHMFD: the dirty log's memfd attached (SCM_RIGHTS) and its
   * size and offset as the log description. Sent without NEED_REPLY and answered by a reply of
   * its own (vhost-user.rst "Communication"): an empty payload (DPDK) or a u64 status (0 =
   * mapped); waiting for a REPLY_ACK there instead is what hangs at SET_LOG_BASE (rust-vmm/vhost
   * issue #217). The wait is bounded by the connection's replyTimeoutMs. Rejects with kind
   * `unsupported` ("cannot migrate") when LOG_SHMFD was not negotiated, `backend-refused` on a
   * non-zero status.
   */
  async setLogBase(log: { readonly fd: number; readonly size: number; readonly offset: number }): Promise<void> {
    if ((this.#protocolFeatures & (1n << BigInt(VHOST_USER_PROTOCOL_F_LOG_SHMFD))) === 0n) {
      throw new VhostUserError(
        'unsupported',
        `cannot migrate: backend ${this.connection.path} lacks VHOST_USER_PROTOCOL_F_LOG_SHMFD (its dirty log must be shared memory; negotiated protocol features 0x${this.#protocolFeatures.toString(16)})`,
      );
    }
    if (!Number.isSafeInteger(log.size) || log.size <= 0 || !Number.isSafeInteger(log.offset) || log.offset < 0 || log.fd < 0) {
      throw new VhostUserError(
        'invalid-argument',
        `SET_LOG_BASE: fd ${log.fd}, size ${log.size}, offset ${log.offset}: expected an fd, a positive size and an offset >= 0`,
      );
    }
    const reply = await this.connection.callWithFds(
      FrontendReq.SET_LOG_BASE,
      encodeLog({ mmapSize: BigInt(log.size), mmapOffset: BigInt(log.offset) }),
      [log.fd],
      [0, VHOST_USER_U64_SIZE],
      'an empty reply or a u64 status',
    );
    if (reply.length === VHOST_USER_U64_SIZE && decodeU64(reply) !== 0n) {
      throw new VhostUserError(
        'backend-refused',
        `vhost-user ${this.connection.path}: SET_LOG_BASE: the backend answered ${decodeU64(reply)} (it did not map the log)`,
      );
    }
  }

  /** SET_VRING_NUM. */
  setVringNum(index: number, num: number): Promise<void> {
    return this.connection.send(FrontendReq.SET_VRING_NUM, encodeVringState({ index, num }));
  }

  /** SET_VRING_ADDR (frontend virtual addresses: see vringUserAddr). */
  setVringAddr(index: number, addr: VhostVringAddr): Promise<void> {
    return this.connection.send(FrontendReq.SET_VRING_ADDR, encodeVringAddr(index, addr));
  }

  /** SET_VRING_BASE: the avail index the ring resumes from. */
  setVringBase(index: number, base: number): Promise<void> {
    return this.connection.send(FrontendReq.SET_VRING_BASE, encodeVringState({ index, num: base }));
  }

  /** GET_VRING_BASE: stops the ring; resolves with its next avail index (the reply must name the same ring). */
  async getVringBase(index: number): Promise<number> {
    const reply = await this.connection.call(FrontendReq.GET_VRING_BASE, encodeVringState({ index, num: 0 }), VHOST_USER_VRING_STATE_SIZE, 'vring state');
    const state = decodeVringState(reply);
    if (state.index !== index) {
      throw new VhostUserError('protocol', `vhost-user ${this.connection.path}: GET_VRING_BASE for vring ${index} answered for vring ${state.index}`);
    }
    return state.num & 0xffff;
  }

  /** SET_VRING_KICK: `fd` < 0 sends the NOFD flag (the backend polls). */
  setVringKick(index: number, fd: number): Promise<void> {
    return this.#vringFd(FrontendReq.SET_VRING_KICK, index, fd);
  }

  /** SET_VRING_CALL: `fd` < 0 sends the NOFD flag. */
  setVringCall(index: number, fd: number): Promise<void> {
    return this.#vringFd(FrontendReq.SET_VRING_CALL, index, fd);
  }

  /** SET_BACKEND_REQ_FD: hands the backend its end of the backend-initiated channel. */
  setBackendReqFd(fd: number): Promise<void> {
    return this.connection.send(FrontendReq.SET_BACKEND_REQ_FD, undefined, [fd]);
  }

  /** SET_VRING_ERR: `fd` < 0 sends the NOFD flag. */
  setVringErr(index: number, fd: number): Promise<void> {
    return this.#vringFd(FrontendReq.SET_VRING_ERR, index, fd);
  }

  /** SET_VRING_ENABLE (only once VHOST_USER_F_PROTOCOL_FEATURES is negotiated). */
  setVringEnable(index: number, enable: boolean): Promise<void> {
    return this.connection.send(FrontendReq.SET_VRING_ENABLE, encodeVringState({ index, num: enable ? 1 : 0 }));
  }

  /** GET_CONFIG (PROTOCOL_F_CONFIG negotiated): `size` bytes of device config space at `offset`. */
  async getConfig(offset: number, size: number): Promise<Uint8Array> {
    this.#require(VHOST_USER_PROTOCOL_F_CONFIG, 'GET_CONFIG', 'CONFIG');
    const reply = await this.connection.call(
      FrontendReq.GET_CONFIG,
      encodeConfigSpace({ offset, flags: 0, payload: new Uint8Array(size) }),
      VHOST_USER_CONFIG_HDR_SIZE + size,
      `${size}-byte config space`,
    );
    const cfg = decodeConfigSpace(reply);
    if (cfg.offset !== offset)
      throw new VhostUserError('protocol', `vhost-user ${this.connection.path}: GET_CONFIG at ${offset} answered for offset ${cfg.offset}`);
    return cfg.payload;
  }

  /** SET_STATUS (PROTOCOL_F_STATUS negotiated): the virtio device status byte. */
  async setStatus(status: number): Promise<void> {
    this.#require(VHOST_USER_PROTOCOL_F_STATUS, 'SET_STATUS', 'STATUS');
    return this.connection.send(FrontendReq.SET_STATUS, encodeU64(status & 0xff));
  }

  /** GET_STATUS (PROTOCOL_F_STATUS negotiated). */
  async getStatus(): Promise<number> {
    this.#require(VHOST_USER_PROTOCOL_F_STATUS, 'GET_STATUS', 'STATUS');
    return Number(decodeU64(await this.connection.call(FrontendReq.GET_STATUS, undefined, VHOST_USER_U64_SIZE, 'u64 status')) & 0xffn);
  }

  async #vringFd(req: FrontendReq, index: number, fd: number): Promise<void> {
    if (!Number.isInteger(index) || index < 0 || index > VHOST_USER_VRING_IDX_MASK) {
      throw new VhostUserError('invalid-argument', `${FrontendReq[req]}: vring index ${index} does not fit bits 0-7`);
    }
    return fd < 0 ? this.connection.send(req, encodeU64(index | VHOST_USER_VRING_NOFD_MASK)) : this.connection.send(req, encodeU64(index), [fd]);
  }

  #require(bit: number, req: string, name: string): void {
    if ((this.#protocolFeatures & (1n << BigInt(bit))) === 0n) {
      throw new VhostUserError('unsupported', `vhost-user ${this.connection.path}: ${req} needs protocol feature ${name}, which was not negotiated`);
    }
  }
}
