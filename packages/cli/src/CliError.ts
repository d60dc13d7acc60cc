import { VnicError } from '@vnic/core';

/**
 * The error class of @vnic/cli (kinds: `command-failed`, `timeout`, `unavailable`, `invalid-argument`).
 * Messages say what ran, what it answered and what to do.
 */
export class CliError extends VnicError {}
