/**
 * A python3 program moving `n` bytes each way over one TCP connection with the bytes checked:
 * `server <addr> <port> <n>` prints `listening`, accepts one connection, reads n bytes and checks
 * their sha256 against the client's stream, then sends its own n bytes; `client <addr> <port> <n>`
 * sends its stream, then reads and checks the server's. Both streams are seeded pseudo-random
 * bytes (random.Random(seed).randbytes), so each side knows what the other must send. Each side
 * prints `<role>: received <k> bytes, sha256 ok|MISMATCH` and exits 0 only when it is ok.
 */
export const TCP_CHECK_SCRIPT = `
import hashlib, random, socket, sys
mode, addr, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
up = random.Random(1).randbytes(n)
down = random.Random(2).randbytes(n)
def recv_hash(s, n):
    h = hashlib.sha256()
    got = 0
    while got < n:
        b = s.recv(min(1 << 16, n - got))
        if not b:
            break
        h.update(b)
        got += len(b)
    return got, h.hexdigest()
if mode == 'server':
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(300)
    print('listening', flush=True)
    c, _ = ls.accept()
    c.settimeout(180)
    got, h = recv_hash(c, n)
    ok = got == n and h == hashlib.sha256(up).hexdigest()
    print(f'server: received {got} bytes, sha256 {"ok" if ok else "MISMATCH"}', flush=True)
    c.sendall(down)
    c.close()
else:
    c = socket.create_connection((addr, port), timeout=180)
    c.sendall(up)
    got, h = recv_hash(c, n)
    ok = got == n and h == hashlib.sha256(down).hexdigest()
    print(f'client: received {got} bytes, sha256 {"ok" if ok else "MISMATCH"}', flush=True)
sys.exit(0 if ok else 1)
`;
