/**
 * The timed TCP client of bench:policy, run inside a pod netns (`ip netns exec NS bun bench/connect-client.ts IP
 * PORT COUNT WARMUP TIMEOUT_MS`): COUNT sequential connections to IP:PORT (after WARMUP untimed ones), each timed
 * from `connect()` to the first byte echoed back (connect + one round trip), then closed (FIN) before the next.
 * Prints one JSON line `{"us":[…],"failed":N}` (µs per successful connection; failed = refused, reset or timed out).
 */
import { createConnection } from 'node:net';

function arg(i: number, name: string): string {
  const v = process.argv[i];
  if (v === undefined || v === '') throw new Error(`connect-client: missing argument ${name}`);
  return v;
}
function count(i: number, name: string): number {
  const n = Number(arg(i, name));
  if (!Number.isInteger(n) || n < 0) throw new Error(`connect-client: ${name} must be a non-negative integer; got ${arg(i, name)}`);
  return n;
}

const ip = arg(2, 'IP');
const port = count(3, 'PORT');
const total = count(4, 'COUNT');
const warmup = count(5, 'WARMUP');
const timeoutMs = count(6, 'TIMEOUT_MS');

/** One connection: µs from connect() to the echoed byte, or undefined when it failed. */
function once(): Promise<number | undefined> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    let us: number | undefined;
    const s = createConnection({ host: ip, port, noDelay: true });
    const timer = setTimeout(() => s.destroy(), timeoutMs);
    s.once('connect', () => s.write('x'));
    s.once('data', () => {
      us = Number(process.hrtime.bigint() - t0) / 1000;
      clearTimeout(timer);
      s.end();
    });
    s.on('error', () => undefined);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(us);
    });
  });
}

const us: number[] = [];
let failed = 0;
for (let i = 0; i < warmup + total; i++) {
  const t = await once();
  if (i < warmup) continue;
  if (t === undefined) failed++;
  else us.push(t);
}
process.stdout.write(`${JSON.stringify({ us, failed })}\n`);
