/** Structured context of a log line (e.g. `{ nic: 'net0', pair: 1 }`). */
export type LogFields = Record<string, unknown>;

/**
 * What vnic logs through: the four levels with pino's calling convention (`fields` first, then the
 * message), so a pino logger (or a child of one) plugs in as it is, and any other logger with a
 * small adapter. Bound under the LOGGER token; the default is silentLogger (a library does not
 * write to its host's stderr unasked: device faults are also events on each device).
 */
export interface Logger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}
