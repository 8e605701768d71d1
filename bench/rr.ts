/**
 * The TCP request/response ping-pong of bench:dataplane, run inside pod network namespaces (`ip netns exec NS bun
 * bench/rr.ts …`): the latency a dataplane adds to one small message and its answer, the netperf TCP_RR idea in a few
 * lines, so every dataplane is measured by the same program.
 *
 *   server IP PORT         echoes whatever arrives, on every connection; prints `listening` when ready
 *   client IP PORT SIZE    one connection (TCP_NODELAY), kept for the whole run; for each line N read on stdin, N
 *                          round trips of SIZE bytes, each timed from the write to the last byte of its echo, then one
 *                          JSON line `{"us":[…]}` (µs per round trip) on stdout; exits at the end of stdin
 *
 * The client stays up between rounds so the caller can interleave dataplanes round by round without paying a
 * process start (seconds under emulation) per round.
 */
import { createConnection, createServer } from 'node:net';
import { createInterface } from 'node:readline';

function arg(i: number, name: string): string {
  const v = process.argv[i];
  if (v === undefined || v === '') throw new Error(`rr: missing argument ${name}`);
  return v;
}
function count(i: number, name: string): number {
  const n = Number(arg(i, name));
  if (!Number.isInteger(n) || n < 0) throw new Error(`rr: ${name} must be a non-negative integer; got ${arg(i, name)}`);
  return n;
}

function serve(ip: string, port: number): void {
  const server = createServer({ noDelay: true }, (s) => {
    s.on('data', (b: Buffer) => s.write(b));
    s.on('error', () => undefined);
  });
  server.listen(port, ip, () => process.stdout.write('listening\n'));
}

function client(ip: string, port: number, size: number): void {
  const msg = Buffer.alloc(size, 0x61);
  const s = createConnection({ host: ip, port, noDelay: true });
  const rounds: number[] = [];
  let us: number[] = [];
  let left = 0;
  let got = 0;
  let t0 = 0n;
  let connected = false;
  const next = (): void => {
    if (left === 0) {
      const n = rounds.shift();
      if (n === undefined) return;
      left = n;
      us = [];
      if (n === 0) {
        process.stdout.write(`${JSON.stringify({ us })}\n`);
        next();
        return;
      }
    }
    got = 0;
    t0 = process.hrtime.bigint();
    s.write(msg);
  };
  s.once('connect', () => {
    connected = true;
    next();
  });
  s.on('data', (b: Buffer) => {
    got += b.length;
    if (got < size) return;
    us.push(Number(process.hrtime.bigint() - t0) / 1000);
    if (--left === 0) process.stdout.write(`${JSON.stringify({ us })}\n`);
    next();
  });
  s.on('error', (e) => {
    process.stderr.write(`rr client: ${e.message}\n`);
    process.exit(1);
  });
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const n = Number(line.trim());
    if (!Number.isInteger(n) || n < 0) throw new Error(`rr client: a round is a non-negative integer; got ${line}`);
    const idle = connected && left === 0 && rounds.length === 0;
    rounds.push(n);
    if (idle) next();
  });
  rl.on('close', () => s.end());
}

const role = arg(2, 'server|client');
if (role === 'server') serve(arg(3, 'IP'), count(4, 'PORT'));
else if (role === 'client') client(arg(3, 'IP'), count(4, 'PORT'), Math.max(1, count(5, 'SIZE')));
else throw new Error(`rr: unknown role ${role} (server|client)`);
