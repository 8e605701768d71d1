/**
 * A backend's stdout/stderr to the log, line by line and bounded: a line longer than maxLineBytes is cut (the rest
 * up to its newline is dropped), and beyond maxLinesPerSecond lines are counted instead of logged, the count
 * reported with the next line that gets through (or at the end).
 */
import type { Clock } from './clock.js';

export interface OutputSink {
  line(text: string): void;
  /** `count` lines were not logged (rate limit). */
  dropped(count: number): void;
}

export interface OutputLimits {
  readonly maxLineBytes: number;
  readonly maxLinesPerSecond: number;
}

export class LineBuffer {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** The current line was cut: drop bytes until its newline. */
  #cut = false;
  #windowStart = 0;
  #inWindow = 0;
  #dropped = 0;

  constructor(
    private readonly sink: OutputSink,
    private readonly limits: OutputLimits,
    private readonly clock: Clock,
  ) {}

  push(chunk: Buffer): void {
    let rest = chunk;
    for (;;) {
      const nl = rest.indexOf(0x0a);
      if (nl < 0) {
        this.#append(rest);
        return;
      }
      this.#append(rest.subarray(0, nl));
      this.#flushLine();
      rest = rest.subarray(nl + 1);
    }
  }

  /** The stream ended: a last line without a newline, and any dropped count, are reported. */
  end(): void {
    if (this.#pendingBytes > 0 || this.#cut) this.#flushLine();
    if (this.#dropped > 0) {
      this.sink.dropped(this.#dropped);
      this.#dropped = 0;
    }
  }

  #append(part: Buffer): void {
    if (this.#cut || part.length === 0) return;
    const room = this.limits.maxLineBytes - this.#pendingBytes;
    if (part.length > room) {
      this.#pending.push(part.subarray(0, room));
      this.#pendingBytes += room;
      this.#cut = true;
      return;
    }
    this.#pending.push(part);
    this.#pendingBytes += part.length;
  }

  #flushLine(): void {
    const text = Buffer.concat(this.#pending).toString('utf8').replace(/\r$/, '') + (this.#cut ? ' …(cut)' : '');
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#cut = false;
    const now = this.clock.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#inWindow = 0;
    }
    if (this.#inWindow >= this.limits.maxLinesPerSecond) {
      this.#dropped++;
      return;
    }
    this.#inWindow++;
    if (this.#dropped > 0) {
      this.sink.dropped(this.#dropped);
      this.#dropped = 0;
    }
    this.sink.line(text);
  }
}
