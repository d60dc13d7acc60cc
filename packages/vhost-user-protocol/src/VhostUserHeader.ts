import type { FrontendReq } from './FrontendReq.ts';

/** The 12-byte header of every vhost-user message (vhost-user.rst "Header"). */
export interface VhostUserHeader {
  /** Request code (a FrontendReq on the main channel). */
  readonly request: FrontendReq | number;
  /** Version (bits 0-1), REPLY (bit 2), NEED_REPLY (bit 3). */
  readonly flags: number;
  /** Payload bytes that follow the header. */
  readonly size: number;
}
