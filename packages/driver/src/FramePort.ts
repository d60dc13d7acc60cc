/**
 * Where a GuestNetStack sends and receives Ethernet frames: a virtio-net driver (`driverPort`), a
 * tap fd (`fdPort`), or anything else that moves whole frames.
 */
export interface FramePort {
  /** Sends one frame; false when it could not be queued (ring or socket full). */
  send(frame: Uint8Array): boolean | Promise<boolean>;
  /** The next frame, waiting up to `timeoutMs`; undefined on timeout. */
  receive(timeoutMs: number): Promise<Uint8Array | undefined>;
}
