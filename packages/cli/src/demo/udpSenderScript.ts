/**
 * A python3 program for the namespace side: sends `count` burst datagrams of `size` bytes from
 * `src:srcPort` to `dst:dstPort` as fast as the socket takes them (retrying briefly when the
 * kernel reports no buffer space), and prints `{"sent", "seconds"}` as JSON.
 */
export function udpSenderScript(o: {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly count: number;
  readonly size: number;
}): string {
  return `
import json, socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("${o.src}", ${o.srcPort}))
pattern = bytes((i * 7) & 0xff for i in range(${o.size} - 4))
sent = 0
t0 = time.monotonic()
for i in range(${o.count}):
    d = i.to_bytes(4, "big") + pattern
    for attempt in range(100):
        try:
            s.sendto(d, ("${o.dst}", ${o.dstPort}))
            sent += 1
            break
        except OSError:
            time.sleep(0.001)
print(json.dumps({"sent": sent, "seconds": time.monotonic() - t0}), flush=True)
`;
}
