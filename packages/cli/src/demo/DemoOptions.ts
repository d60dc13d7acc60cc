/** Options of `vnic demo`. */
export interface DemoOptions {
  /** VM config file; the first `virtio-net` NIC in it is used. */
  readonly config: string;
  /** Pings to send (default 5). */
  readonly pings: number;
  /** Datagrams per UDP burst direction (default 1000). */
  readonly burst: number;
  /** UDP payload bytes per datagram (default 1000). */
  readonly size: number;
}
