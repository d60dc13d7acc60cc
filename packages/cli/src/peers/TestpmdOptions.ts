/** Options of one DPDK testpmd run (see Testpmd.start). */
export interface TestpmdOptions {
  /** The vhost-user socket path of port 0. */
  readonly socket: string;
  /** Queue pairs per port (queues=N, --rxq/--txq). Default 1. */
  readonly queues?: number;
  /**
   * Port role. `vhost` (default): net_vhost, testpmd is the vhost-user backend. `virtio-user`:
   * net_virtio_user, testpmd is a vhost-user frontend (the reference guest of the benches).
   */
  readonly role?: 'vhost' | 'virtio-user';
  /** true: testpmd connects to a peer that listens (vhost: client=1; virtio-user: the default, server=1 when false). */
  readonly client?: boolean;
  /** Forward mode (default macswap). With one port the topology is loop: frames go back where they came from. txonly: a load generator. */
  readonly forwardMode?: 'macswap' | 'io' | 'txonly';
  /** txonly: bytes per generated frame (--txpkts; default testpmd's 64). */
  readonly txPktLen?: number;
  /** A second port (net_vhost1 / net_virtio_user1 on `socket2`), paired with port 0: frames cross between them. */
  readonly socket2?: string;
  /** A second port on DPDK's tap PMD instead (net_tap1, which creates the tap `tap2`), paired with port 0. */
  readonly tap2?: string;
  /** Send a first burst when forwarding starts (--tx-first): a loop between two testpmds then runs by itself. */
  readonly txFirst?: boolean;
  /** Seconds between printed port statistics (default 60; the benches read Rx-pps from them). */
  readonly statsPeriod?: number;
  /** More devargs for the port(s), appended to the --vdev string (e.g. virtio_user's `packed_vq=1,in_order=1`). */
  readonly devArgs?: string;
  /** CPU of the busy-polling forwarding lcore (default: the EAL's choice, CPU 1 of `-l 0-1`). */
  readonly forwardingCpu?: number;
}
