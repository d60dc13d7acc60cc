/** What runInVm() returns once the guest powered off. */
export interface RunInVmResult {
  /** Exit code of the command in the guest (125: its cwd is missing, 127: not found). */
  readonly exitCode: number;
  /** The command's output (the console between the start and exit markers of /init). */
  readonly output: string;
  /** The whole guest console. */
  readonly console: string;
  /** From starting QEMU to the command starting in the guest. */
  readonly bootMs: number;
  /** The whole run, image preparation included. */
  readonly totalMs: number;
  /** Pid the QEMU process had (it has exited when this is returned). */
  readonly qemuPid: number | undefined;
  /** The `collect`ed files of /run/testvm/, by name. */
  readonly files: Readonly<Record<string, Buffer>>;
}
