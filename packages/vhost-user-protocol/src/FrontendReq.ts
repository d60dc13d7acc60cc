/**
 * Requests the frontend sends (QEMU docs/interop/vhost-user.rst, "Front-end message types"),
 * spec names without the VHOST_USER_ prefix. `FrontendReq[n]` gives the name back for messages.
 */
export enum FrontendReq {
  /** Backend's virtio features (reply u64); bit 30 means protocol features are supported. */
  GET_FEATURES = 1,
  /** Features the frontend enables (u64): acked virtio features plus bit 30. */
  SET_FEATURES = 2,
  /** Claims the session ("session start"); no payload. */
  SET_OWNER = 3,
  /** Deprecated: used to disable all rings; no payload. */
  RESET_OWNER = 4,
  /** Memory regions table, one fd per region in the ancillary data. */
  SET_MEM_TABLE = 5,
  /** Dirty-log shared memory (u64 size + offset, fd with LOG_SHMFD). */
  SET_LOG_BASE = 6,
  /** Eventfd the backend signals when the log changed. */
  SET_LOG_FD = 7,
  /** Queue size of a vring (vring state). */
  SET_VRING_NUM = 8,
  /** Ring addresses of a vring, frontend virtual addresses (vring address). */
  SET_VRING_ADDR = 9,
  /** Next avail index a vring starts from (vring state). */
  SET_VRING_BASE = 10,
  /** Stops a vring and returns its next avail index (vring state both ways). */
  GET_VRING_BASE = 11,
  /** Kick eventfd of a vring (u64 index | NOFD, fd attached); starts the ring. */
  SET_VRING_KICK = 12,
  /** Call eventfd of a vring (u64 index | NOFD, fd attached). */
  SET_VRING_CALL = 13,
  /** Error eventfd of a vring (u64 index | NOFD, fd attached). */
  SET_VRING_ERR = 14,
  /** Backend's protocol features (reply u64). */
  GET_PROTOCOL_FEATURES = 15,
  /** Protocol features the frontend enables (u64). */
  SET_PROTOCOL_FEATURES = 16,
  /** Most queues the backend supports (reply u64), with PROTOCOL_F_MQ. */
  GET_QUEUE_NUM = 17,
  /** Enables (num 1) or disables (num 0) a vring (vring state). */
  SET_VRING_ENABLE = 18,
  /** Broadcast a fake RARP for the guest MAC (u64, first 6 bytes). */
  SEND_RARP = 19,
  /** Host MTU exposed to the guest (u64). */
  NET_SET_MTU = 20,
  /** Socket for backend-initiated requests (fd attached); SET_SLAVE_REQ_FD in older revisions. */
  SET_BACKEND_REQ_FD = 21,
  /** IOTLB update/invalidate (struct vhost_iotlb_msg). */
  IOTLB_MSG = 22,
  /** Endianness of a legacy vring (vring state). */
  SET_VRING_ENDIAN = 23,
  /** Reads device config space (config space both ways), with PROTOCOL_F_CONFIG. */
  GET_CONFIG = 24,
  /** Writes device config space, with PROTOCOL_F_CONFIG. */
  SET_CONFIG = 25,
  /** Creates a crypto session. */
  CREATE_CRYPTO_SESSION = 26,
  /** Closes a crypto session. */
  CLOSE_CRYPTO_SESSION = 27,
  /** Postcopy migration is underway (reply: userfault fd). */
  POSTCOPY_ADVISE = 28,
  /** Postcopy mode started. */
  POSTCOPY_LISTEN = 29,
  /** Postcopy finished (reply u64). */
  POSTCOPY_END = 30,
  /** Gets the inflight-tracking buffer. */
  GET_INFLIGHT_FD = 31,
  /** Sends the inflight-tracking buffer back. */
  SET_INFLIGHT_FD = 32,
  /** GPU protocol socket (fd attached). */
  GPU_SET_SOCKET = 33,
  /** Disables all rings and resets device state, keeping ownership. */
  RESET_DEVICE = 34,
  /** In-band kick of a vring (vring state). */
  VRING_KICK = 35,
  /** Most memory slots the backend supports (reply u64). */
  GET_MAX_MEM_SLOTS = 36,
  /** Adds one memory region (single region description, one fd). */
  ADD_MEM_REG = 37,
  /** Removes one memory region (single region description). */
  REM_MEM_REG = 38,
  /** Virtio device status byte (u64), with PROTOCOL_F_STATUS. */
  SET_STATUS = 39,
  /** Reads the virtio device status byte (reply u64), with PROTOCOL_F_STATUS. */
  GET_STATUS = 40,
}
