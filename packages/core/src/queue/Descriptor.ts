/** One validated buffer of a descriptor chain (`struct virtq_desc` minus the linking fields). */
export interface Descriptor {
  /** Guest-physical address, checked to lie with `len` inside one memory region. */
  readonly addr: number;
  /** Length in bytes. */
  readonly len: number;
  /** True for a device-writable buffer (VIRTQ_DESC_F_WRITE). */
  readonly writable: boolean;
}
