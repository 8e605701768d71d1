/**
 * The plugin's log file (the conflist's `logFile`), bounded: before an invocation's first line, one stat(2); when
 * the file is larger than `maxBytes` (default 10 MiB) it is renamed to `<file>.1` (replacing the previous one), so
 * the logs take at most about 2 × maxBytes. Invocations that log nothing pay nothing. Two plugins rotating at the
 * same moment can cost the older generation (the second rename replaces `.1` with a nearly empty file): accepted,
 * it needs no lock. If the file cannot be written, lines go to stderr.
 */
import { appendFileSync, renameSync, statSync, writeSync } from 'node:fs';
import type { LogSink } from './log.js';

export const LOG_FILE_MAX_BYTES = 10 * 1024 * 1024;

export function rotateIfLarge(file: string, maxBytes: number): void {
  try {
    if (statSync(file).size > maxBytes) renameSync(file, `${file}.1`);
  } catch {
    // absent (first line ever) or already rotated by a concurrent plugin: append creates it
  }
}

export function fileLogSink(file: string, maxBytes = LOG_FILE_MAX_BYTES): LogSink {
  let checked = false;
  return {
    write: (line) => {
      try {
        if (!checked) {
          checked = true;
          rotateIfLarge(file, maxBytes);
        }
        appendFileSync(file, line, { mode: 0o600 });
      } catch {
        writeSync(2, line);
      }
    },
  };
}
