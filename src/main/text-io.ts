/** The CLI's plain text I/O: stdout, stderr, and a file's text where `-` is stdin (policy, render). */
import { readFile } from 'node:fs/promises';

export interface TextIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** A file's text; `-` is stdin. */
  readonly readText: (path: string) => Promise<string>;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export const processTextIo: TextIo = {
  out: (t) => { process.stdout.write(t); },
  err: (t) => { process.stderr.write(t); },
  readText: (path) => (path === '-' ? readStdin() : readFile(path, 'utf8')),
};
