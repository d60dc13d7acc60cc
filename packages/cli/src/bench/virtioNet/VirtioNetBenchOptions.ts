/** Knobs of `virtioNetBench()`; the command line uses the defaults (tests shrink them). */
export interface VirtioNetBenchOptions {
  /** Windows per side and metric, vnic and reference alternating (default 5; the median is reported). */
  readonly rounds?: number;
  /** Seconds per window when the command line gives no --seconds (default 2). */
  readonly defaultSeconds?: number;
  /** Warm-up before each window, in seconds (default 0.5). */
  readonly warmupSeconds?: number;
  /** NICs activated at once for rss-per-nic-mib, rss-per-nic-dedicated-mib and tx-64B-64nics-mpps (default 64). */
  readonly rssNics?: number;
  /**
   * Queue size of the bench NICs (default 1024, QEMU's largest for virtio-net): the bench guest
   * polls every 0.2 ms and may be descheduled on a busy machine; a deep ring keeps the device from
   * running dry meanwhile, so the device is what is measured.
   */
  readonly queueSize?: number;
}
