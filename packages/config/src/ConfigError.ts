import { VnicError, type ConfigIssue } from '@vnic/core';

/** The error class of @vnic/config: an invalid VM config (with every issue) or a device build failure. */
export class ConfigError extends VnicError {
  /** The brand `ConfigError.is()` looks for (`Symbol.for`, so copies of this package agree). */
  static override readonly brand: symbol = Symbol.for('vnic.ConfigError');

  /** Every problem found, each with its field path. */
  readonly issues: readonly ConfigIssue[];
  /** For `switch-failed`: the step of the backend switch that failed (`build`, `quiesce`, `restore`, `resume`). */
  readonly step: string | undefined;

  constructor(
    kind: 'invalid-config' | 'unknown-backend' | 'create-failed' | 'state-refused' | 'switch-failed',
    message: string,
    options?: { issues?: readonly ConfigIssue[]; cause?: unknown; step?: string },
  ) {
    super(kind, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.issues = options?.issues ?? [];
    this.step = options?.step;
  }

  /** Builds the error for a list of issues, one per line in the message. */
  static fromIssues(issues: readonly ConfigIssue[], source?: string): ConfigError {
    const where = source === undefined ? 'VM config' : source;
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`);
    return new ConfigError('invalid-config', `${where} is invalid:\n${lines.join('\n')}`, { issues });
  }
}
