/**
 * How a DirtyLog travels to another thread (structured clone): the same bitmap memory, never a
 * copy. Either a SharedArrayBuffer range (the receiving thread views it directly) or a host
 * address in this process (a memfd mapping: the receiving thread builds its own view of it, as it
 * does for guest memory).
 */
export type DirtyLogShare = (
  | { readonly kind: 'shared'; readonly buffer: SharedArrayBuffer; readonly byteOffset: number; readonly byteLength: number }
  | { readonly kind: 'host'; readonly hostAddr: bigint; readonly byteLength: number }
) & {
  /** The shared 0-to-1 bit counter (DirtyLogInit.setBits: a Uint32Array over this buffer), when counting. */
  readonly setBits?: SharedArrayBuffer;
};
