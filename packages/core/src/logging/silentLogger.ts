import type { Logger } from './Logger.ts';

const drop = (): void => {};

/** The default Logger: drops every line. */
export const silentLogger: Logger = { debug: drop, info: drop, warn: drop, error: drop };
