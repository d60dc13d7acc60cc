/** Events of a VhostUserDeviceServer (its `events`, a TypedEmitter from @vnic/core). */
export interface VhostUserDeviceEventMap {
  /** Server mode: listening on the socket path. */
  listening(path: string): void;
  /** A frontend connected (or, client mode, vnic connected to it). */
  connected(): void;
  /** SET_FEATURES: the virtio features the frontend acked (bit 30 included) and the protocol features then in force. */
  negotiated(info: { readonly features: bigint; readonly protocolFeatures: bigint }): void;
  /** SET_MEM_TABLE mapped. */
  memory(info: { readonly regions: readonly { readonly guestPhysAddr: number; readonly size: number }[] }): void;
  /**
   * The dirty log changed (SET_LOG_BASE mapped one, SET_FEATURES turned VHOST_F_LOG_ALL on or off):
   * `logging` says whether the IO threads mark their writes now, `bytes` the mapped log's size;
   * when logging ends, `pages`: the distinct pages seen marked while it ran (sampled: a lower bound),
   * and `setBits`: exactly how many page bits vnic turned from 0 to 1 (each a page the frontend
   * then took as dirty; a page dirtied again after the frontend synced counts again).
   */
  'dirty-log'(info: { readonly logging: boolean; readonly bytes?: number; readonly pages?: number; readonly setBits?: number }): void;
  /** A queue pair's IO thread started, serving its receiveq (rx) and/or transmitq (tx). */
  'rings-started'(info: { readonly pair: number; readonly rx: boolean; readonly tx: boolean }): void;
  /** GET_VRING_BASE stopped a ring. */
  'ring-stopped'(info: { readonly index: number; readonly nextAvail: number }): void;
  /**
   * The first start of a vring after a take-over (VhostUserDeviceOptions.state): where it resumed,
   * the used index found in memory, and whether the saved index or the frontend's was taken (see resumePoint).
   */
  resumed(info: {
    readonly index: number;
    readonly nextAvail: number;
    readonly nextUsed: number;
    readonly from: 'agreed' | 'state' | 'frontend';
    readonly why: string;
  }): void;
  /** The connection ended: `reason` is the error that ended it, undefined when the frontend closed it. */
  disconnected(reason: Error | undefined): void;
  /** A second frontend connected while one is served: its connection was closed at once. */
  refused(message: string): void;
  /** Something went wrong that does not end the server (a ring broke, a connect attempt failed). */
  warning(message: string): void;
}
