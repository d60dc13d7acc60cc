/**
 * A python3 program for the namespace side: binds `ip:port`, prints `ready`, counts datagrams
 * until `count` arrived or none came for a second (ten before the first), checks each against the
 * burst pattern, and prints `{"count", "bytes", "bad", "seconds"}` (first to last arrival) as JSON.
 */
export function udpReceiverScript(o: { readonly ip: string; readonly port: number; readonly count: number; readonly size: number }): string {
  return `
import json, socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE (root)
except OSError:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
s.bind(("${o.ip}", ${o.port}))
pattern = bytes((i * 7) & 0xff for i in range(${o.size} - 4))
print("ready", flush=True)
n = nbytes = bad = 0
first = last = None
s.settimeout(10.0)
while n < ${o.count}:
    try:
        d = s.recv(65535)
    except socket.timeout:
        break
    t = time.monotonic()
    if first is None:
        first = t
        s.settimeout(1.0)
    last = t
    n += 1
    nbytes += len(d)
    if len(d) != ${o.size} or d[4:] != pattern:
        bad += 1
print(json.dumps({"count": n, "bytes": nbytes, "bad": bad, "seconds": (last - first) if n > 1 else 0.0}), flush=True)
`;
}
