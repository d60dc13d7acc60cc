/** What a stream saw: frames the guest queued, where they arrived, duplicates, the ones missing. */
export interface StreamCount {
  readonly sent: number;
  readonly atTap: number;
  readonly atGuest: number;
  readonly duplicates: number;
  readonly lost: readonly number[];
}
