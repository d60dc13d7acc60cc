/** One direction of an interface's counters (`ip -s link`). */
export interface LinkCounters {
  /** Packets counted. */
  readonly packets: number;
  /** Bytes counted. */
  readonly bytes: number;
  /** Packets dropped. */
  readonly dropped: number;
}
