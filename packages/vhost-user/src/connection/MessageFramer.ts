import { decodeHeader, type VhostUserHeader } from '@vnic/vhost-user-protocol';
import { VHOST_USER_HDR_SIZE, VHOST_USER_MAX_PAYLOAD_SIZE } from '@vnic/vhost-user-protocol/vhost_user';

const EMPTY = new Uint8Array(0);

/** One framed message, or a header announcing more than VHOST_USER_MAX_PAYLOAD_SIZE bytes. */
export type FramedMessage =
  | { readonly oversized: false; readonly header: VhostUserHeader; readonly payload: Uint8Array }
  | { readonly oversized: true; readonly header: VhostUserHeader };

/**
 * Reassembles vhost-user messages from a stream socket: push() what recv() returned, next() whole
 * messages (header + payload) as they complete. A header whose size field exceeds the maximum is
 * reported as soon as it arrives (the caller ends the stream: it cannot be trusted after that).
 */
export class MessageFramer {
  #buf: Uint8Array = EMPTY;

  /** Bytes of an incomplete message held. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Appends received bytes. */
  push(data: Uint8Array): void {
    if (this.#buf.length === 0) {
      this.#buf = data;
      return;
    }
    const next = new Uint8Array(this.#buf.length + data.length);
    next.set(this.#buf);
    next.set(data, this.#buf.length);
    this.#buf = next;
  }

  /** The next whole message, or undefined while it is incomplete. */
  next(): FramedMessage | undefined {
    if (this.#buf.length < VHOST_USER_HDR_SIZE) return undefined;
    const header = decodeHeader(this.#buf);
    if (header.size > VHOST_USER_MAX_PAYLOAD_SIZE) return { oversized: true, header };
    const end = VHOST_USER_HDR_SIZE + header.size;
    if (this.#buf.length < end) return undefined;
    const payload = this.#buf.slice(VHOST_USER_HDR_SIZE, end);
    this.#buf = this.#buf.length === end ? EMPTY : this.#buf.subarray(end);
    return { oversized: false, header, payload };
  }

  /** Drops whatever is buffered. */
  clear(): void {
    this.#buf = EMPTY;
  }
}
