/** Events a device emits instead of throwing into the VMM. */
export interface DeviceEvents {
  /** The config space changed (link, announce): the VMM raises a configuration-change interrupt. */
  'config-change': () => void;
  /** Ring-level corruption or a backend failure: the VMM sets DEVICE_NEEDS_RESET in the status. */
  'needs-reset': (reason: string, queueIndex: number | undefined) => void;
  /** The link went up or down. */
  link: (up: boolean) => void;
  /** A used buffer was added on `queueIndex` and the guest asked to be told (informational). */
  'used-buffer': (queueIndex: number) => void;
  /** A non-fatal problem worth an operator's attention (e.g. a fallback was taken). */
  warning: (message: string) => void;
}
