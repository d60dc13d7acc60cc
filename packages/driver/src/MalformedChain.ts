/**
 * The deliberately broken chains `VirtioNetDriver.postMalformed` can build, one per validation rule
 * of the device (chain-level rules: the device returns the chain with used length 0 and goes on;
 * `avail-idx-jump` is ring-level: the device must stop the queue and report NEEDS_RESET).
 */
export type MalformedChain =
  | 'loop'
  | 'next-out-of-range'
  | 'address-out-of-memory'
  | 'address-overflow'
  | 'length-overflow'
  | 'indirect-len'
  | 'indirect-too-long'
  | 'nested-indirect'
  | 'indirect-next'
  | 'readable-after-writable'
  | 'avail-idx-jump';

/** Every chain-level MalformedChain (all but the ring-level `avail-idx-jump`). */
export const CHAIN_LEVEL_MALFORMED: readonly MalformedChain[] = [
  'loop',
  'next-out-of-range',
  'address-out-of-memory',
  'address-overflow',
  'length-overflow',
  'indirect-len',
  'nested-indirect',
  'indirect-next',
  'readable-after-writable',
];

/**
 * The chain-level MalformedChain kinds a packed ring can carry (writeMalformedPackedList): a
 * packed ring has no `next` fields (no `loop`, no `next-out-of-range`) and the device ignores the
 * flags of indirect table entries but WRITE (no `nested-indirect`).
 */
export const PACKED_CHAIN_LEVEL_MALFORMED: readonly MalformedChain[] = [
  'address-out-of-memory',
  'address-overflow',
  'length-overflow',
  'indirect-len',
  'indirect-too-long',
  'indirect-next',
  'readable-after-writable',
];
