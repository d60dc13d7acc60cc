import type { ContainerModule } from 'inversify';

/** Where the `vnic` command writes, and which backends it loads (tests swap both). */
export interface CliIo {
  /** Writes to standard output. */
  out(text: string): void;
  /** Writes to standard error. */
  err(text: string): void;
  /** True when output goes to a terminal (progress lines are redrawn in place). */
  readonly isTTY: boolean;
  /** The backend ContainerModules to load (default: @vnic/config's defaultBackendModules()). */
  backendModules(): ContainerModule[];
}
