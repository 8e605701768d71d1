/**
 * The supervisor against a real process: the stand-in backend (test/fixtures/stand-in-backend.ts, run with bun),
 * which serves real HTTP health endpoints on 127.0.0.1 and crashes, exits 129, ignores SIGTERM, flaps or never
 * becomes ready on demand. Real spawner (own process group, exactly the spec's env), real HTTP prober, real time:
 * every bound is a lower bound on what the supervisor must wait, or a generous timeout; nothing depends on tight
 * timing. No root needed.
 */
import { afterEach, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createProcessSpawner } from '../../src/lib/exec.js';
import type { ProcessSpec } from '../../src/policy/process-spec.js';
import { Supervisor, type SupervisorOptionsInput } from '../../src/policy/supervisor.js';
import { createHttpProber } from '../../src/policy/supervisor/probe.js';
import type { SupervisorEvent } from '../../src/policy/supervisor/types.js';
import { captureLog } from '../unit/policy/supervisor-fakes.js';
import { describeIf } from '../helpers/privilege.js';
import { tempDir } from '../helpers/tmp.js';
import { sleep, waitFor } from '../helpers/wait.js';

/**
 * Events are stamped with Date.now() when they reach the test, and Node's timers run on a monotonic clock truncated to
 * the ms: a grace of 1500 ms measured here can read 1499 (a full run did). One ms of slack, no more.
 */
const CLOCK_SLACK_MS = 1;

const BUN = join(process.cwd(), 'node_modules/.bin/bun');
const STAND_IN = resolve('test/fixtures/stand-in-backend.ts');
const haveBun = existsSync(BUN);

interface StartRecord {
  readonly seq: number;
  readonly pid: number;
  readonly startedAt: number;
  readonly env: Record<string, string>;
}
interface StandInEvent {
  readonly seq: number;
  readonly pid: number;
  readonly at: number;
  readonly event: string;
  readonly code?: number;
}
interface Seen {
  readonly at: number;
  readonly e: SupervisorEvent;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => { res(port); });
    });
  });
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Harness {
  readonly sup: Supervisor;
  readonly seen: Seen[];
  readonly of: <T extends SupervisorEvent['type']>(t: T) => { at: number; e: Extract<SupervisorEvent, { type: T }> }[];
  readonly lines: () => readonly Record<string, unknown>[];
}

function harness(options: SupervisorOptionsInput = {}): Harness {
  const captured = captureLog();
  const sup = new Supervisor({
    spawner: createProcessSpawner(),
    prober: createHttpProber(),
    log: captured.log,
    options: {
      backoff: { baseMs: 300, capMs: 5000, jitter: 0 },
      probeIntervalMs: 100,
      probeTimeoutMs: 1500,
      startupGraceMs: 5000,
      livenessFailureMs: 1000,
      unhealthyGraceMs: 1500,
      restartNowMinIntervalMs: 1000,
      ...options,
    },
  });
  const seen: Seen[] = [];
  sup.on((e) => seen.push({ at: Date.now(), e }));
  cleanups.push(() => sup.stop());
  const of = <T extends SupervisorEvent['type']>(t: T): { at: number; e: Extract<SupervisorEvent, { type: T }> }[] =>
    seen.filter((s): s is { at: number; e: Extract<SupervisorEvent, { type: T }> } => s.e.type === t);
  return { sup, seen, of, lines: captured.lines };
}

interface Backend {
  readonly dir: string;
  readonly spec: ProcessSpec;
  starts(): StartRecord[];
  events(): StandInEvent[];
}

async function standIn(env: Record<string, string>, over: Partial<ProcessSpec> & { port?: number } = {}): Promise<Backend> {
  const dir = tempDir('hub-standin-');
  cleanups.push(() => { rmSync(dir, { recursive: true, force: true }); });
  const port = over.port ?? (await freePort());
  const cilium = env.STANDIN_FLAVOR === 'cilium';
  const probe = (path: string, headers?: Record<string, string>) => ({ host: '127.0.0.1', port, path, ...(headers !== undefined ? { headers } : {}) });
  const spec: ProcessSpec = {
    name: cilium ? 'cilium-agent' : 'felix',
    argv: [BUN, STAND_IN],
    env: { STANDIN_PORT: String(port), STANDIN_STATE_DIR: dir, ...env },
    liveness: cilium ? probe('/healthz', { brief: 'true', 'require-k8s-connectivity': 'false' }) : probe('/liveness'),
    readiness: cilium ? probe('/healthz', { brief: 'true' }) : probe('/readiness'),
    restartNowExitCodes: [129],
    stopGraceMs: 5000,
    ...over,
  };
  return {
    dir,
    spec,
    starts: () =>
      readdirSync(dir)
        .filter((f) => /^start-\d+\.json$/.test(f))
        .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as StartRecord)
        .sort((a, b) => a.seq - b.seq),
    events: () =>
      existsSync(join(dir, 'events.log'))
        ? readFileSync(join(dir, 'events.log'), 'utf8')
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => JSON.parse(l) as StandInEvent)
        : [],
  };
}

const LONG = { timeoutMs: 20_000 };

describeIf(haveBun, `supervisor against the stand-in backend: ${BUN} (bun) is missing`)('Supervisor with a real backend process', () => {
  it('runs argv with exactly the spec env; ready only after /readiness answers (204 counts as good)', async () => {
    const h = harness();
    const b = await standIn({ STANDIN_READY_AFTER_MS: '1500', STANDIN_OK_STATUS: '204' });
    await h.sup.start(b.spec);
    await waitFor(() => h.of('ready').length > 0, { ...LONG, what: () => JSON.stringify(h.sup.status()) });
    const [first] = b.starts();
    expect(first!.env).toEqual(b.spec.env); // nothing inherited: no PATH, HOME, NODE_OPTIONS …
    expect(h.of('ready')[0]!.at).toBeGreaterThanOrEqual(first!.startedAt + 1500);
    expect(h.of('ready')[0]!.e.pid).toBe(first!.pid);
    expect(h.of('state').map((s) => s.e.to)).toEqual(['starting', 'ready']);
    expect(h.sup.status().lastProbeError).toMatchObject({ probe: 'readiness' }); // it failed before it passed
    expect(h.lines()).toContainEqual(expect.objectContaining({ msg: 'backend output', stream: 'stdout', line: `stand-in felix start 1 pid ${String(first!.pid)}` }));
  });

  it('Cilium-style /healthz: ready with the brief header; without it (HTTP 400) never ready', async () => {
    const h = harness();
    const b = await standIn({ STANDIN_FLAVOR: 'cilium' });
    await h.sup.start(b.spec);
    await waitFor(() => h.sup.status().state === 'ready', LONG);

    const h2 = harness();
    const bare = { host: '127.0.0.1', port: (await freePort()), path: '/healthz' };
    const b2 = await standIn({ STANDIN_FLAVOR: 'cilium' }, { port: bare.port, liveness: bare, readiness: bare });
    await h2.sup.start(b2.spec);
    await waitFor(() => b2.events().some((e) => e.event === 'listening'), LONG);
    await waitFor(() => h2.sup.status().lastProbeError?.message === 'HTTP 400', LONG);
    await sleep(500);
    expect(h2.of('ready')).toHaveLength(0);
    expect(h2.sup.status().state).toBe('starting');
  });

  it('never ready → unhealthy-too-long (neverReady) after the grace, no ready event', async () => {
    const h = harness();
    const b = await standIn({ STANDIN_READY_AFTER_MS: 'never' });
    const t0 = Date.now();
    await h.sup.start(b.spec);
    await waitFor(() => h.of('unhealthy-too-long').length > 0, LONG);
    const e = h.of('unhealthy-too-long')[0]!;
    expect(e.e.neverReady).toBe(true);
    expect(e.at - t0).toBeGreaterThanOrEqual(1500 - CLOCK_SLACK_MS);
    expect(h.of('ready')).toHaveLength(0);
    expect(h.sup.status().lastProbeError).toMatchObject({ probe: 'readiness', kind: 'status', message: 'HTTP 503' });
    expect(b.starts()).toHaveLength(1); // not ready is not dead: no restart
  });

  it('restarts crashes with growing backoff, then the backend stays up', async () => {
    const h = harness();
    const b = await standIn({ STANDIN_CRASH_AFTER_MS: '100', STANDIN_CRASH_CODE: '3', STANDIN_FAULTY_STARTS: '3' });
    await h.sup.start(b.spec);
    await waitFor(() => b.starts().length === 4 && h.sup.status().state === 'ready', { timeoutMs: 30_000, what: () => JSON.stringify(h.sup.status()) });
    const restarts = h.of('restarting').map((r) => r.e);
    expect(restarts.map((r) => [r.reason, r.delayMs])).toEqual([['crash', 300], ['crash', 600], ['crash', 1200]]);
    const starts = b.starts();
    const exits = b.events().filter((e) => e.event === 'exit');
    expect(starts).toHaveLength(4);
    expect(exits.map((e) => e.code)).toEqual([3, 3, 3]);
    const gaps = [0, 1, 2].map((i) => starts[i + 1]!.startedAt - exits[i]!.at);
    gaps.forEach((g, i) => { expect(g).toBeGreaterThanOrEqual(restarts[i]!.delayMs); });
    expect(h.sup.status()).toMatchObject({ state: 'ready', restarts: 3, consecutiveCrashes: 3, lastExit: expect.objectContaining({ code: 3, reason: 'crash' }) });
    for (const s of starts.slice(0, 3)) expect(alive(s.pid)).toBe(false);
  });

  it('exit 129 restarts at once, not counted as a crash', async () => {
    // a 20 s first backoff: treating 129 as a crash would miss the 10 s wait below
    const h = harness({ backoff: { baseMs: 20_000, capMs: 60_000, jitter: 0 } });
    const b = await standIn({ STANDIN_EXIT_ONCE_AFTER_MS: '300' });
    await h.sup.start(b.spec);
    await waitFor(() => b.starts().length === 2, { timeoutMs: 10_000, what: () => JSON.stringify(h.sup.status()) });
    await waitFor(() => h.sup.status().state === 'ready', LONG);
    expect(h.of('restarting').map((r) => [r.e.reason, r.e.delayMs])).toEqual([['restart-requested', 0]]);
    expect(h.sup.status()).toMatchObject({ restarts: 1, consecutiveCrashes: 0, lastExit: expect.objectContaining({ code: 129, reason: 'restart-requested' }) });
    expect(h.of('state').map((s) => s.e.to)).not.toContain('crash-looping');
  });

  it('kills and restarts a backend whose liveness fails too long; a flapping one is left alone', async () => {
    const h = harness();
    const b = await standIn({ STANDIN_LIVENESS_FAIL_AFTER_MS: '800', STANDIN_FAULTY_STARTS: '1' });
    await h.sup.start(b.spec);
    await waitFor(() => b.starts().length === 2, LONG);
    const [first] = b.starts();
    expect(h.of('restarting').map((r) => r.e.reason)).toEqual(['liveness']);
    expect(b.events().filter((e) => e.seq === 1).map((e) => e.event)).toContain('sigterm');
    await waitFor(() => !alive(first!.pid), LONG);

    const h2 = harness({ livenessFailureMs: 2000 });
    const b2 = await standIn({ STANDIN_LIVENESS_FLAP_MS: '300' });
    await h2.sup.start(b2.spec);
    await sleep(4000);
    expect(b2.starts()).toHaveLength(1);
    expect(h2.of('restarting')).toHaveLength(0);
    expect(h2.sup.status().state).toBe('ready');
  });

  it('readiness lost: unready, then unhealthy-too-long only after the grace', async () => {
    const h = harness();
    const b = await standIn({ STANDIN_UNREADY_AFTER_MS: '1000' });
    await h.sup.start(b.spec);
    await waitFor(() => h.of('unhealthy-too-long').length > 0, LONG);
    const unready = h.of('unready')[0]!;
    const outage = h.of('unhealthy-too-long')[0]!;
    expect(h.of('ready')[0]!.at).toBeLessThan(unready.at);
    expect(outage.at - unready.at).toBeGreaterThanOrEqual(1500 - CLOCK_SLACK_MS);
    expect(outage.e.neverReady).toBe(false);
    expect(h.sup.status().state).toBe('unready');
    expect(b.starts()).toHaveLength(1);
  });

  it('stop(): a backend ignoring SIGTERM is SIGKILLed after the grace, and nothing of it is left', async () => {
    const h = harness();
    const b = await standIn({ STANDIN_IGNORE_SIGTERM: '1', STANDIN_HELPER: '1' }, { stopGraceMs: 1500 });
    await h.sup.start(b.spec);
    await waitFor(() => existsSync(join(b.dir, 'helper-1.pid')) && b.events().some((e) => e.event === 'listening'), LONG);
    const pid = b.starts()[0]!.pid;
    const helper = Number(readFileSync(join(b.dir, 'helper-1.pid'), 'utf8'));
    expect(alive(pid) && alive(helper)).toBe(true);
    const t0 = Date.now();
    await h.sup.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    expect(b.events().map((e) => e.event)).toContain('sigterm-ignored');
    expect(h.sup.status()).toMatchObject({ state: 'stopped', pid: undefined, lastExit: expect.objectContaining({ signal: 'SIGKILL', reason: 'stopped' }) });
    expect(alive(pid)).toBe(false);
    await waitFor(() => !alive(helper), { timeoutMs: 5000, what: `helper ${String(helper)} of the process group still alive` });
  });

  it('stop(): a well-behaved backend exits on SIGTERM; a crashed one takes its helper with it', async () => {
    const h = harness({ backoff: { baseMs: 60_000, capMs: 60_000, jitter: 0 } });
    const b = await standIn({ STANDIN_HELPER: '1', STANDIN_CRASH_AFTER_MS: '1500', STANDIN_FAULTY_STARTS: '1' });
    await h.sup.start(b.spec);
    await waitFor(() => h.sup.status().state === 'crash-looping', LONG);
    const helper1 = Number(readFileSync(join(b.dir, 'helper-1.pid'), 'utf8'));
    await waitFor(() => !alive(helper1), { timeoutMs: 5000, what: 'the crashed backend’s helper survived' });
    await h.sup.stop();
    expect(b.starts()).toHaveLength(1); // the 60 s backoff was cancelled by stop()

    const h2 = harness();
    const b2 = await standIn({});
    await h2.sup.start(b2.spec);
    await waitFor(() => h2.sup.status().state === 'ready', LONG);
    await h2.sup.stop();
    expect(h2.sup.status().lastExit).toMatchObject({ code: 0, signal: null, reason: 'stopped' });
    expect(b2.events().map((e) => e.event)).toContain('sigterm');
    expect(alive(b2.starts()[0]!.pid)).toBe(false);
  });

  it('swap(): the old backend is gone before the new one starts (both use the same health port)', async () => {
    const h = harness();
    const port = await freePort();
    const felix = await standIn({}, { port });
    const cilium = await standIn({ STANDIN_FLAVOR: 'cilium' }, { port });
    await h.sup.start(felix.spec);
    await waitFor(() => h.sup.status().state === 'ready', LONG);
    await h.sup.swap(cilium.spec);
    await waitFor(() => h.sup.status().state === 'ready', LONG);
    const oldPid = felix.starts()[0]!.pid;
    const term = felix.events().find((e) => e.event === 'sigterm');
    expect(term).toBeDefined();
    expect(cilium.starts()[0]!.startedAt).toBeGreaterThanOrEqual(term!.at);
    expect(alive(oldPid)).toBe(false);
    expect(cilium.events().map((e) => e.event)).not.toContain('listen-failed');
    expect(h.sup.status()).toMatchObject({ backend: 'cilium-agent', restarts: 0 });
    expect(felix.starts()).toHaveLength(1);
  });
});
