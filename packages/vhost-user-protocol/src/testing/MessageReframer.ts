import { decodeHeader } from '../decodeHeader.ts';
import type { VhostUserHeader } from '../VhostUserHeader.ts';
import { VHOST_USER_HDR_SIZE } from '../vhost_user.ts';

/**
 * Cuts a vhost-user byte stream into whole messages however the socket's reads split it (one
 * message over several reads, several messages in one read): what a test peer reading a real
 * socket needs, frontend or backend side. Feed it each read; it returns the messages that read
 * completed (header decoded, payload copied) and keeps the start of the next one.
 */
export class MessageReframer {
  #buf = new Uint8Array(0);

  /** Bytes held: the start of a message that is not complete yet. */
  get pending(): number {
    return this.#buf.length;
  }

  /** Appends the bytes of one read; returns the whole messages they complete, in stream order. */
  push(data: Uint8Array): (VhostUserHeader & { readonly payload: Uint8Array })[] {
    let buf = data;
    if (this.#buf.length !== 0) {
      buf = new Uint8Array(this.#buf.length + data.length);
      buf.set(this.#buf);
      buf.set(data, this.#buf.length);
    }
    const out: (VhostUserHeader & { readonly payload: Uint8Array })[] = [];
    let off = 0;
    while (buf.length - off >= VHOST_USER_HDR_SIZE) {
      const h = decodeHeader(buf.subarray(off));
      const end = off + VHOST_USER_HDR_SIZE + h.size;
      if (buf.length < end) break;
      out.push({ ...h, payload: buf.slice(off + VHOST_USER_HDR_SIZE, end) });
      off = end;
    }
    this.#buf = buf.slice(off);
    return out;
  }
}
