import type { EpollLoop } from '@vnic/sys';

/** Options of a VhostUserConnection. */
export interface VhostUserConnectionOptions {
  /** Longest wait for a reply (and a REPLY_ACK), in ms (default 5000). On timeout the connection is closed. */
  readonly replyTimeoutMs?: number;
  /** The loop to watch the socket on (default: a loop of its own, closed with the connection). */
  readonly loop?: EpollLoop;
  /** Called once when the connection ends for any reason other than close(): EOF, HUP, a protocol error, a timeout. */
  readonly onClose?: (reason: Error) => void;
}
