import { spawn } from 'node:child_process';

/** A UDP receiver inside a network namespace (a node child process). */
export interface NsUdpServer {
  /** Resolves once the socket is bound. */
  readonly ready: Promise<void>;
  /** Resolves with the payloads (hex) of the first `count` datagrams, in arrival order. */
  readonly received: Promise<string[]>;
  /** Kills the process (idempotent). */
  stop(): void;
}

const SCRIPT = `
const dgram = require('node:dgram');
const [ip, port, count] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const s = dgram.createSocket('udp4');
const got = [];
s.on('message', (m) => {
  got.push(m.toString('hex'));
  if (got.length === count) { process.stdout.write(JSON.stringify(got) + '\\n'); s.close(); }
});
s.bind(port, ip, () => process.stdout.write('ready\\n'));
`;

/** Binds `ip`:`port` in `ns` and collects `count` datagrams (rejects after `timeoutMs`). */
export function nsUdpServer(ns: string, ip: string, port: number, count: number, timeoutMs = 5000): NsUdpServer {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SCRIPT, ip, String(port), String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady: () => void = () => {};
  let onDone: (v: string[]) => void = () => {};
  let onFail: (e: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  const received = new Promise<string[]>((resolve, reject) => {
    onDone = resolve;
    const prev = onFail;
    onFail = (e) => {
      prev(e);
      reject(e);
    };
  });
  received.catch(() => undefined);
  ready.catch(() => undefined);
  const timer = setTimeout(() => {
    child.kill();
    onFail(new Error(`UDP server ${ip}:${port} in ${ns}: timed out; got so far: ${out.trim()} ${err.trim()}`));
  }, timeoutMs);
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) onReady();
    const line = out.split('\n').find((l) => l.startsWith('['));
    if (line !== undefined) {
      clearTimeout(timer);
      onDone(JSON.parse(line) as string[]);
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.on('exit', (code) => {
    clearTimeout(timer);
    if (code !== 0) onFail(new Error(`UDP server ${ip}:${port} in ${ns} exited with ${code}: ${err.trim()}`));
  });
  return {
    ready,
    received,
    stop: () => {
      clearTimeout(timer);
      if (child.exitCode === null) child.kill();
    },
  };
}
