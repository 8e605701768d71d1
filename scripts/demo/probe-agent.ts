/**
 * A pod's "containers" for the builtin-backend packet tests, run with bun inside the pod's netns
 * (`ip netns exec NS bun probe-agent.ts PORTS`): TCP and UDP echo servers on each port of PORTS (comma list; `-`
 * for none), and a prober driven by JSON lines on stdin, answering JSON lines on stdout:
 * `{id, op:'probe', targets:[{ip,port,proto}], timeoutMs}` → `{id, results:[bool]}` (TCP: connect; UDP: an echoed
 * datagram, resent every 100 ms); `{id, op:'hold', ip, port}` opens a TCP connection kept under `id`; `{id, op:'send', key, timeoutMs}`
 * writes on held connection `key` and waits for the echo → `{id, ok}`; with a second argument SINK, a TCP byte sink on
 * that port that answers, when the sender half-closes, `{bytes, ms}` counted from its first to its last byte;
 * `{id, op:'stream', ip, port, ms}` streams to such a sink for `ms` → `{id, bps}` (the rate the receiver saw).
 * Moved here from the policy packet tests so the demo measures connectivity and shaping without ping or iperf3.
 */
import { createSocket } from 'node:dgram';
import { createConnection, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

interface Target {
  readonly ip: string;
  readonly port: number;
  readonly proto: 'TCP' | 'UDP';
}
type Request =
  | { readonly id: number; readonly op: 'probe'; readonly targets: readonly Target[]; readonly timeoutMs: number }
  | { readonly id: number; readonly op: 'hold'; readonly ip: string; readonly port: number; readonly timeoutMs: number }
  | { readonly id: number; readonly op: 'send'; readonly key: number; readonly timeoutMs: number }
  | { readonly id: number; readonly op: 'stream'; readonly ip: string; readonly port: number; readonly ms: number };

const reply = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

function tcpProbe(ip: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: ip, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => {
      done(false);
    }, timeoutMs);
    s.once('connect', () => {
      done(true);
    });
    s.once('error', () => {
      done(false);
    });
  });
}

function udpProbe(ip: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    let finished = false;
    const done = (ok: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearInterval(again);
      s.close();
      resolve(ok);
    };
    const timer = setTimeout(() => {
      done(false);
    }, timeoutMs);
    s.once('message', () => {
      done(true);
    });
    s.on('error', () => {
      done(false);
    });
    const send = (): void => {
      if (!finished) s.send('probe', port, ip, () => undefined);
    };
    // UDP has no retransmission of its own: resend like a real client (a first datagram may wait on ARP).
    const again = setInterval(send, 100);
    send();
  });
}

const held = new Map<number, Socket>();

function hold(r: Extract<Request, { op: 'hold' }>): void {
  const s = createConnection({ host: r.ip, port: r.port });
  const timer = setTimeout(() => {
    s.destroy();
    reply({ id: r.id, ok: false });
  }, r.timeoutMs);
  s.once('connect', () => {
    clearTimeout(timer);
    held.set(r.id, s);
    reply({ id: r.id, ok: true });
  });
  s.on('error', () => undefined);
}

function send(r: Extract<Request, { op: 'send' }>): void {
  const s = held.get(r.key);
  if (s === undefined || s.destroyed) {
    reply({ id: r.id, ok: false });
    return;
  }
  const onData = (): void => {
    clearTimeout(timer);
    reply({ id: r.id, ok: true });
  };
  const timer = setTimeout(() => {
    s.off('data', onData);
    reply({ id: r.id, ok: false });
  }, r.timeoutMs);
  s.once('data', onData);
  s.write('ping\n');
}

function stream(r: Extract<Request, { op: 'stream' }>): void {
  const s = createConnection({ host: r.ip, port: r.port });
  const chunk = Buffer.alloc(64 * 1024, 120);
  let reply_ = '';
  let until = 0;
  const fill = (): void => {
    while (Date.now() < until) if (!s.write(chunk)) return;
    s.end();
  };
  // a dropped SYN would otherwise wait out the kernel's retries (minutes); a sink answers within ms + a few seconds
  let answered = false;
  const answer = (o: Record<string, unknown>): void => {
    if (answered) return;
    answered = true;
    clearTimeout(deadline);
    reply({ id: r.id, ...o });
  };
  const deadline = setTimeout(() => {
    s.destroy();
    answer({});
  }, r.ms + 5000);
  s.once('connect', () => {
    until = Date.now() + r.ms;
    s.on('drain', fill);
    fill();
  });
  s.on('data', (d: Buffer) => (reply_ += d.toString()));
  s.on('error', () => {
    answer({});
  });
  s.on('end', () => {
    const got = JSON.parse(reply_ || '{}') as { bytes?: number; ms?: number };
    answer(got.bytes !== undefined && got.ms !== undefined && got.ms > 0 ? { bps: (got.bytes * 8 * 1000) / got.ms } : {});
  });
}

function sink(port: number, onListening: () => void): void {
  createServer({ allowHalfOpen: true }, (c) => {
    let bytes = 0;
    let first = 0;
    let last = 0;
    c.on('data', (d: Buffer) => {
      last = performance.now();
      if (first === 0) first = last;
      bytes += d.length;
    });
    c.on('end', () => {
      c.end(JSON.stringify({ bytes, ms: last - first }));
    });
    c.on('error', () => undefined);
  }).listen(port, '0.0.0.0', onListening);
}

const ports = (process.argv[2] ?? '-') === '-' ? [] : (process.argv[2] ?? '').split(',').map(Number);
let listening = 0;
const sinkPort = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const ready = (): void => {
  if (++listening === ports.length * 2 + (sinkPort === undefined ? 0 : 1)) reply({ ready: true });
};
if (sinkPort !== undefined) sink(sinkPort, ready);
for (const port of ports) {
  const tcp = createServer((c) => {
    c.on('data', (d) => c.write(d));
    c.on('error', () => undefined);
  });
  tcp.listen(port, '0.0.0.0', ready);
  const udp = createSocket('udp4');
  udp.on('error', () => undefined); // a reply to a prober that already closed comes back as ICMP unreachable
  udp.on('message', (msg, from) => {
    udp.send(msg, from.port, from.address);
  });
  udp.bind(port, '0.0.0.0', ready);
}
if (ports.length === 0 && sinkPort === undefined) reply({ ready: true });

createInterface({ input: process.stdin }).on('line', (line) => {
  const r = JSON.parse(line) as Request;
  if (r.op === 'probe') {
    void Promise.all(r.targets.map((t) => (t.proto === 'TCP' ? tcpProbe(t.ip, t.port, r.timeoutMs) : udpProbe(t.ip, t.port, r.timeoutMs)))).then((results) => {
      reply({ id: r.id, results });
    });
  } else if (r.op === 'hold') hold(r);
  else if (r.op === 'stream') stream(r);
  else send(r);
}).on('close', () => {
  process.exit(0);
});
