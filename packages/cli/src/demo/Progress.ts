import type { CliIo } from '../CliIo.ts';

/**
 * A progress line for anything that takes more than a moment: redrawn in place on a terminal
 * (at most every 100 ms), otherwise printed at most once a second.
 */
export class Progress {
  private readonly io: CliIo;
  private readonly label: string;
  private last = 0;
  private drawn = false;

  constructor(io: CliIo, label: string) {
    this.io = io;
    this.label = label;
  }

  /** Shows `text` after the label (throttled). */
  update(text: string): void {
    const now = Date.now();
    if (now - this.last < (this.io.isTTY ? 100 : 1000)) return;
    this.last = now;
    if (this.io.isTTY) {
      this.io.out(`\r\x1b[2K${this.label}${text}`);
      this.drawn = true;
    } else {
      this.io.out(`${this.label}${text}\n`);
    }
  }

  /** Replaces the progress line with the final `text`. */
  done(text: string): void {
    this.io.out(`${this.io.isTTY && this.drawn ? '\r\x1b[2K' : ''}${this.label}${text}\n`);
    this.drawn = false;
  }
}
