/** The real HTTP prober against a real server on 127.0.0.1: good statuses, failures by kind, headers sent. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { createHttpProber } from '../../../src/policy/supervisor/probe.js';

let server: Server;
let port = 0;
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === '/ok') res.writeHead(200).end('ok');
    else if (req.url === '/empty') res.writeHead(204).end();
    else if (req.url === '/bad') res.writeHead(503).end('no');
    else if (req.url === '/big') res.writeHead(200).end('x'.repeat(1 << 20));
    else if (req.url === '/nope') res.writeHead(404).end();
    // /hang: never answers
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  port = typeof a === 'object' && a !== null ? a.port : 0;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => { r(); }));
});

function closedPort(): Promise<number> {
  return new Promise((res) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => { res(typeof a === 'object' && a !== null ? a.port : 0); });
    });
  });
}

describe('createHttpProber', () => {
  const prober = createHttpProber();
  const at = (path: string, headers?: Record<string, string>) => ({ host: '127.0.0.1', port, path, ...(headers ? { headers } : {}) });

  it('200 and 204 are good, with the body read and discarded even when large', async () => {
    await expect(prober.probe(at('/ok'), 2000)).resolves.toEqual({ ok: true, status: 200 });
    await expect(prober.probe(at('/empty'), 2000)).resolves.toEqual({ ok: true, status: 204 });
    await expect(prober.probe(at('/big'), 2000)).resolves.toEqual({ ok: true, status: 200 });
  });
  it('another status is a failure of kind status', async () => {
    await expect(prober.probe(at('/bad'), 2000)).resolves.toEqual({ ok: false, kind: 'status', message: 'HTTP 503' });
    await expect(prober.probe(at('/nope'), 2000)).resolves.toEqual({ ok: false, kind: 'status', message: 'HTTP 404' });
  });
  it('nothing listening is refused; no answer in time is a timeout', async () => {
    await expect(prober.probe({ host: '127.0.0.1', port: await closedPort(), path: '/' }, 2000)).resolves.toMatchObject({ ok: false, kind: 'refused' });
    const t0 = Date.now();
    await expect(prober.probe(at('/hang'), 300)).resolves.toMatchObject({ ok: false, kind: 'timeout' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });
  it('sends the probe headers', async () => {
    seen.length = 0;
    await prober.probe(at('/ok', { brief: 'true', 'require-k8s-connectivity': 'false' }), 2000);
    expect(seen[0]).toMatchObject({ brief: 'true', 'require-k8s-connectivity': 'false', host: `127.0.0.1:${String(port)}` });
  });
});
