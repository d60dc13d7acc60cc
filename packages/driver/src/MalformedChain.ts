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
