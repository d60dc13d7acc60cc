/**
 * Why a descriptor chain or a ring was rejected, as short lower-case messages in the style of
 * rust-vmm virtio-queue. Chain errors return the chain with used length 0; ring errors
 * (`INVALID_AVAIL_IDX`, `RING_OUT_OF_MEMORY`, `INVALID_HEAD`, and for packed rings the `PACKED_*`,
 * `CHAIN_NOT_AVAILABLE`, `CHAIN_TOO_LONG`, `INVALID_BUFFER_ID`) stop the queue (NEEDS_RESET).
 */
export const ChainError = {
  LOOP: 'descriptor chain is longer than the queue size (loop)',
  NEXT_OUT_OF_RANGE: 'next descriptor index out of range',
  ADDRESS_OUT_OF_MEMORY: 'descriptor address is outside guest memory',
  ADDRESS_OVERFLOW: 'descriptor address + length overflows or is not representable',
  INDIRECT_LEN: 'indirect table length is zero or not a multiple of 16',
  INDIRECT_TOO_LONG: 'indirect table has more descriptors than the queue size',
  INDIRECT_NESTED: 'indirect descriptor inside an indirect table',
  INDIRECT_NEXT: 'indirect descriptor with the next flag set',
  INDIRECT_NOT_NEGOTIATED: 'indirect descriptor without VIRTIO_F_INDIRECT_DESC',
  INDIRECT_OUT_OF_MEMORY: 'indirect table is outside guest memory',
  READABLE_AFTER_WRITABLE: 'device-readable descriptor after a device-writable one',
  INVALID_HEAD: 'head descriptor index out of range',
  INVALID_AVAIL_IDX: 'invalid available ring index (more descriptors to process than queue size)',
  RING_OUT_OF_MEMORY: 'descriptor table, available or used ring is outside guest memory',
  RING_MISALIGNED: 'descriptor table, available or used ring is misaligned',
  INVALID_SIZE: 'queue size is not a power of two between 1 and 32768',
  PACKED_INVALID_SIZE: 'packed queue size is not between 1 and 32768',
  PACKED_RING_OUT_OF_MEMORY: 'descriptor ring or event suppression structure is outside guest memory',
  PACKED_RING_MISALIGNED: 'descriptor ring or event suppression structure is misaligned',
  PACKED_INVALID_STATE: 'ring positions and wrap counters put the used position ahead of the available one',
  CHAIN_NOT_AVAILABLE: 'descriptor list continues into a descriptor that is not available',
  CHAIN_TOO_LONG: 'descriptor list is longer than the descriptors the device does not hold',
  INVALID_BUFFER_ID: 'buffer id out of range or already in use',
} as const;

/** One of the ChainError messages. */
export type ChainErrorMessage = (typeof ChainError)[keyof typeof ChainError];
