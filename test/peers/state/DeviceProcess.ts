import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DeviceJob, FromDevice, ToDevice } from './fixtures/deviceProcessProtocol.ts';

const CHILD = fileURLToPath(new URL('./fixtures/deviceProcess.ts', import.meta.url));
/** Stdio slot of the first inherited fd (0-2 stdio, 3 the IPC channel). */
const FIRST_FD_SLOT = 4;

type Report = Extract<FromDevice, { kind: 'ready' | 'stats' }>;

/**
 * The device side of a VMM in its own OS process (fixtures/deviceProcess.ts): `start` hands it fds
 * of this process (they appear there as stdio slots 4, 5, ...: `job` receives their numbers in the
 * child) and waits until it has restored the NIC from the job's state file. `save` makes it save the
 * state to a file, close everything and exit 0; `kill` ends one that is still running.
 */
export class DeviceProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #stderr = '';
  #waiter: ((m: FromDevice) => void) | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.stderr?.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    child.on('message', (m: FromDevice) => this.#waiter?.(m));
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Spawns the device process with `fds` inherited; `job(childFd)` builds its job from their numbers there. */
  static async start(fds: readonly number[], job: (childFd: (fd: number) => number) => DeviceJob): Promise<{ proc: DeviceProcess; ready: Report }> {
    const childFd = (fd: number): number => {
      const i = fds.indexOf(fd);
      if (i < 0) throw new Error(`fd ${fd} is not handed to the device process`);
      return FIRST_FD_SLOT + i;
    };
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(job(childFd))], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc', ...fds],
      serialization: 'advanced',
    });
    const proc = new DeviceProcess(child);
    try {
      return { proc, ready: (await proc.#next('ready')) as Report };
    } catch (e) {
      await proc.kill();
      throw e;
    }
  }

  /** The device's counters, control state and activation as the child sees them now. */
  async stats(): Promise<Report> {
    this.#send({ kind: 'stats' });
    return (await this.#next('stats')) as Report;
  }

  /** saveState() to `path` in the child; resolves when it has closed the device and exited 0. */
  async save(path: string): Promise<void> {
    this.#send({ kind: 'save', path });
    await this.#next('saved');
    const code = await this.#exited;
    if (code !== 0) throw new Error(`device process exited with ${code} after saving: ${this.#stderr}`);
  }

  /** Kills the child if it still runs and waits for its exit. */
  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    await this.#exited;
  }

  #send(m: ToDevice): void {
    this.#child.send(m);
  }

  /** The next message of `kind`; rejects on an error message or an exit before it. */
  #next(kind: FromDevice['kind']): Promise<FromDevice> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.#waiter = undefined;
      };
      this.#waiter = (m) => {
        done();
        if (m.kind === kind) resolve(m);
        else reject(new Error(m.kind === 'error' ? `device process: ${m.message}` : `device process sent ${m.kind}, expected ${kind}`));
      };
      void this.#exited.then((code) => {
        if (this.#waiter === undefined) return;
        done();
        reject(new Error(`device process exited (${code}) before "${kind}": ${this.#stderr}`));
      });
    });
  }
}
