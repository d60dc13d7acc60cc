import { describe, expect, it } from 'vitest';
import { parseTestpmdForwardStats } from './parseTestpmdForwardStats.ts';

// What dpdk-testpmd 22.11 (txonly, one virtio_user port) printed on SIGINT, trimmed.
const OUTPUT = `
  ######################## NIC statistics for port 0  ########################
  RX-packets: 0          RX-missed: 0          RX-bytes:  0
  TX-packets: 256        TX-errors: 0          TX-bytes:  16384
  ############################################################################
Telling cores to stop...
Waiting for lcores to finish...

  ---------------------- Forward statistics for port 0  ----------------------
  RX-packets: 12             RX-dropped: 3             RX-total: 15
  TX-packets: 519840         TX-dropped: 10434688      TX-total: 10954528
  ----------------------------------------------------------------------------

  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++
  RX-packets: 0              RX-dropped: 0             RX-total: 0
  TX-packets: 1              TX-dropped: 2             TX-total: 3
  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++
Done.
`;

describe('parseTestpmdForwardStats', () => {
  it("reads the port's forward statistics, not the NIC statistics or the accumulated block", () => {
    expect(parseTestpmdForwardStats(OUTPUT, 0)).toEqual({ rxPackets: 12, rxDropped: 3, txPackets: 519_840, txDropped: 10_434_688 });
  });

  it('says so when testpmd printed none for that port', () => {
    expect(() => parseTestpmdForwardStats(OUTPUT, 1)).toThrow(/no forward statistics for port 1/);
    expect(() => parseTestpmdForwardStats('Bye...\n')).toThrow(/no forward statistics for port 0/);
  });
});
