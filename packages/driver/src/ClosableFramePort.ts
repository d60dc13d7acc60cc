import type { FramePort } from './FramePort.ts';

/** A FramePort that holds resources of its own (fdPort: an epoll) and must be closed. */
export interface ClosableFramePort extends FramePort {
  /** Releases the port's own resources (never the fd it was given). */
  close(): void;
}
