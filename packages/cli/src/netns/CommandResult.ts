/** What a finished command printed and how it exited. */
export interface CommandResult {
  /** Standard output, as text. */
  readonly stdout: string;
  /** Standard error, as text. */
  readonly stderr: string;
  /** Exit code (null when a signal ended it). */
  readonly code: number | null;
}
