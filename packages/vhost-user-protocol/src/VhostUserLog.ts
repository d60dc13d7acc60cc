/** A log description (vhost-user.rst "Log description"): the SET_LOG_BASE payload with PROTOCOL_F_LOG_SHMFD. */
export interface VhostUserLog {
  /** Bytes of the log area in the attached fd (one bit per VHOST_LOG_PAGE of guest-physical space from 0). */
  readonly mmapSize: bigint;
  /** Offset of the log area in the attached fd (where guest address 0 is logged). */
  readonly mmapOffset: bigint;
}
