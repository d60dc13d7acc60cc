/** What a successful SwitchableNetDevice.switchBackend did (times from `performance.now()`). */
export interface SwitchReport {
  /** Backend the NIC ran on before. */
  readonly from: string;
  /** Backend the NIC runs on now. */
  readonly to: string;
  /** True when the data plane was running (rings carried over); false: only negotiation state moved. */
  readonly activated: boolean;
  /** When the old data plane began to quiesce (the new device was already built by then). */
  readonly quiescedAt: number;
  /** When the old device's state was taken (quiesced and saved): the restore began. */
  readonly savedAt: number;
  /** When the new data plane was running on the same rings. */
  readonly startedAt: number;
  /** Switches this NIC has made so far, this one included. */
  readonly switches: number;
}
