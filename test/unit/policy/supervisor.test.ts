/**
 * The supervisor's state machine with a fake clock, spawner and prober: every transition, timer and event is
 * driven by the test (the real-process behaviour is test/integration/policy-supervisor.test.ts).
 */
import { ConfigError, ConflictError } from '../../../src/lib/errors.js';
import { Supervisor, type SupervisorOptionsInput } from '../../../src/policy/supervisor.js';
import type { SupervisorEvent } from '../../../src/policy/supervisor/types.js';
import { FakeClock, flushAsync } from '../../helpers/fake-clock.js';
import { captureLog, fakeSpec, FakeProber, FakeSpawner, OK, REFUSED, UNAVAILABLE } from './supervisor-fakes.js';

const PROBE = 1000;

function setup(options: SupervisorOptionsInput = {}) {
  const clock = new FakeClock();
  const spawner = new FakeSpawner();
  const prober = new FakeProber();
  const captured = captureLog();
  const sup = new Supervisor({
    spawner,
    prober,
    clock,
    log: captured.log,
    random: () => 0.5,
    options: {
      backoff: { baseMs: 1000, capMs: 8000, jitter: 0 },
      probeIntervalMs: PROBE,
      probeTimeoutMs: 500,
      stableAfterMs: 60_000,
      startupGraceMs: 10_000,
      livenessFailureMs: 5000,
      unhealthyGraceMs: 30_000,
      restartNowMinIntervalMs: 5000,
      ...options,
    },
  });
  const events: SupervisorEvent[] = [];
  sup.on((e) => events.push(e));
  const of = <T extends SupervisorEvent['type']>(t: T): Extract<SupervisorEvent, { type: T }>[] =>
    events.filter((e): e is Extract<SupervisorEvent, { type: T }> => e.type === t);
  const states = (): string[] => of('state').map((e) => e.to);
  return { clock, spawner, prober, sup, events, of, states, captured };
}

describe('Supervisor (fake clock)', () => {
  it('spawns argv with exactly the spec env and is ready only after the readiness probe passes', async () => {
    const t = setup();
    const spec = fakeSpec();
    await t.sup.start(spec);
    expect(t.spawner.procs).toHaveLength(1);
    expect(t.spawner.last.argv).toEqual(spec.argv);
    expect(t.spawner.last.opts.env).toEqual(spec.env);
    expect(t.sup.status()).toMatchObject({ backend: 'felix', state: 'starting', pid: t.spawner.last.pid, restarts: 0 });

    t.prober.set('/liveness', OK);
    t.prober.set('/readiness', UNAVAILABLE);
    await t.clock.advance(PROBE);
    expect(t.sup.status().state).toBe('starting');
    expect(t.sup.status().lastProbeError).toMatchObject({ probe: 'readiness', kind: 'status', message: 'HTTP 503' });
    expect(t.of('ready')).toHaveLength(0);

    t.prober.set('/readiness', OK);
    await t.clock.advance(PROBE);
    expect(t.sup.status().state).toBe('ready');
    expect(t.of('ready')).toHaveLength(1);
    await t.clock.advance(5 * PROBE);
    expect(t.of('ready')).toHaveLength(1); // once per transition, not per probe
    expect(t.prober.calls.map((c) => c.path)).toContain('/liveness');
    expect(t.sup.status().notReadySince).toBeUndefined();
  });

  it('sends the probe headers of the spec (Cilium brief: true)', async () => {
    const t = setup();
    const h = { host: '127.0.0.1', port: 9879, path: '/healthz', headers: { brief: 'true' } };
    await t.sup.start(fakeSpec({ name: 'cilium-agent', liveness: { ...h, headers: { brief: 'true', 'require-k8s-connectivity': 'false' } }, readiness: h }));
    await t.clock.advance(PROBE);
    expect(t.prober.calls).toEqual([
      { host: '127.0.0.1', port: 9879, path: '/healthz', headers: { brief: 'true', 'require-k8s-connectivity': 'false' } },
      h,
    ]);
  });

  it('restarts crashes with exponential backoff up to the cap, never before the delay', async () => {
    const t = setup();
    await t.sup.start(fakeSpec());
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      t.spawner.last.exit(1);
      await flushAsync();
      const r = t.of('restarting').at(-1)!;
      expect(r.reason).toBe('crash');
      delays.push(r.delayMs);
      expect(t.sup.status().state).toBe('crash-looping');
      expect(t.sup.status().nextStartAt).toBe(t.clock.now() + r.delayMs);
      await t.clock.advance(r.delayMs - 1);
      expect(t.spawner.procs).toHaveLength(i + 1);
      await t.clock.advance(1);
      expect(t.spawner.procs).toHaveLength(i + 2);
      expect(t.sup.status().state).toBe('starting');
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(t.sup.status()).toMatchObject({ restarts: 5, consecutiveCrashes: 5 });
    expect(t.sup.status().lastExit).toMatchObject({ code: 1, signal: null, reason: 'crash' });
  });

  it('resets the crash streak after the process ran stableAfterMs', async () => {
    const t = setup();
    await t.sup.start(fakeSpec());
    for (let i = 0; i < 3; i++) {
      t.spawner.last.exit(2);
      await flushAsync();
      await t.clock.advance(t.of('restarting').at(-1)!.delayMs);
    }
    expect(t.sup.status().consecutiveCrashes).toBe(3);
    t.prober.set('/liveness', OK); // else the liveness kill ends it first
    await t.clock.advance(60_000);
    expect(t.sup.status().consecutiveCrashes).toBe(0);
    t.spawner.last.exit(2);
    await flushAsync();
    expect(t.of('restarting').at(-1)!.delayMs).toBe(1000);
  });

  it('restarts at once on a restart-now exit code (Felix 129) without counting a crash', async () => {
    const t = setup();
    await t.sup.start(fakeSpec());
    t.spawner.last.exit(129);
    await flushAsync();
    expect(t.spawner.procs).toHaveLength(2); // no clock movement needed
    expect(t.of('restarting')).toEqual([expect.objectContaining({ reason: 'restart-requested', delayMs: 0 })]);
    expect(t.sup.status()).toMatchObject({ state: 'starting', restarts: 1, consecutiveCrashes: 0 });
    expect(t.sup.status().lastExit).toMatchObject({ code: 129, reason: 'restart-requested' });
    expect(t.states()).not.toContain('crash-looping');

    // a crash afterwards still gets the first backoff step: 129 did not count
    t.spawner.last.exit(1);
    await flushAsync();
    expect(t.of('restarting').at(-1)).toMatchObject({ reason: 'crash', delayMs: 1000 });
  });

  it('spaces out restart-now exits that come faster than restartNowMinIntervalMs', async () => {
    const t = setup();
    await t.sup.start(fakeSpec());
    await t.clock.advance(1000);
    t.spawner.last.exit(129);
    await flushAsync();
    expect(t.spawner.procs).toHaveLength(2);
    await t.clock.advance(1000);
    t.spawner.last.exit(129);
    await flushAsync();
    expect(t.of('restarting').at(-1)).toMatchObject({ reason: 'restart-requested', delayMs: 4000 });
    expect(t.sup.status().state).toBe('starting');
    await t.clock.advance(3999);
    expect(t.spawner.procs).toHaveLength(2);
    await t.clock.advance(1);
    expect(t.spawner.procs).toHaveLength(3);
    expect(t.sup.status().consecutiveCrashes).toBe(0);
  });

  it('ignores liveness failures during the startup grace, then kills after livenessFailureMs', async () => {
    const t = setup();
    await t.sup.start(fakeSpec());
    t.prober.set('/liveness', REFUSED);
    await t.clock.advance(10_000 + 4000); // grace, then 4 s failing
    expect(t.spawner.last.signals).toEqual([]);
    await t.clock.advance(1000);
    expect(t.spawner.procs[0]!.signals).toEqual(['SIGTERM']);
    expect(t.sup.status().lastExit).toMatchObject({ reason: 'liveness', signal: 'SIGTERM' });
    expect(t.of('restarting')).toEqual([expect.objectContaining({ reason: 'liveness', delayMs: 1000 })]);
    expect(t.states()).toEqual(['starting', 'stopping', 'crash-looping']);
    await t.clock.advance(1000);
    expect(t.spawner.procs).toHaveLength(2);
  });

  it('kills a live-then-failing process after livenessFailureMs, and not a flapping one', async () => {
    const t = setup();
    await t.sup.start(fakeSpec());
    t.prober.set('/liveness', OK);
    t.prober.set('/readiness', OK);
    await t.clock.advance(PROBE);
    // flapping: one failure every other probe never makes livenessFailureMs of failure in a row
    for (let i = 0; i < 30; i++) {
      t.prober.set('/liveness', i % 2 === 0 ? UNAVAILABLE : OK);
      await t.clock.advance(PROBE);
    }
    expect(t.spawner.last.signals).toEqual([]);
    expect(t.sup.status().state).toBe('ready');
    t.prober.set('/liveness', UNAVAILABLE);
    await t.clock.advance(5 * PROBE);
    expect(t.spawner.last.signals).toEqual([]);
    await t.clock.advance(PROBE);
    expect(t.spawner.procs[0]!.signals).toEqual(['SIGTERM']);
    expect(t.of('unready')).toEqual([expect.objectContaining({ reason: 'liveness failed' })]);
  });

  it('reports unhealthy-too-long once per outage, after unhealthyGraceMs', async () => {
    const t = setup();
    await t.sup.start(fakeSpec());
    t.prober.set('/liveness', OK);
    t.prober.set('/readiness', OK);
    await t.clock.advance(PROBE);
    t.prober.set('/readiness', UNAVAILABLE);
    await t.clock.advance(PROBE);
    expect(t.sup.status().state).toBe('unready');
    expect(t.of('unready')).toHaveLength(1);
    const since = t.sup.status().notReadySince!;
    await t.clock.advance(30_000 - 1);
    expect(t.of('unhealthy-too-long')).toHaveLength(0);
    await t.clock.advance(1);
    expect(t.of('unhealthy-too-long')).toEqual([expect.objectContaining({ forMs: 30_000, neverReady: false })]);
    expect(t.clock.now() - since).toBe(30_000);
    await t.clock.advance(120_000);
    expect(t.of('unhealthy-too-long')).toHaveLength(1);
    // recovery, then a second outage is reported again
    t.prober.set('/readiness', OK);
    await t.clock.advance(PROBE);
    expect(t.of('ready')).toHaveLength(2);
    t.prober.set('/readiness', REFUSED);
    await t.clock.advance(PROBE + 30_000);
    expect(t.of('unhealthy-too-long')).toHaveLength(2);
  });

  it('counts an outage across a crash loop (no probes run while the process is down)', async () => {
    const t = setup({ backoff: { baseMs: 20_000, capMs: 60_000, jitter: 0 } });
    await t.sup.start(fakeSpec());
    t.prober.set('/liveness', OK);
    t.prober.set('/readiness', OK);
    await t.clock.advance(PROBE);
    t.spawner.last.exit(1);
    await flushAsync();
    expect(t.of('unready')).toEqual([expect.objectContaining({ reason: 'process exited (code 1)' })]);
    expect(t.sup.status().state).toBe('crash-looping');
    await t.clock.advance(20_000);
    t.spawner.last.exit(1); // crashes again right after its restart
    await t.clock.advance(10_000);
    expect(t.of('unhealthy-too-long')).toEqual([expect.objectContaining({ neverReady: false })]);
    expect(t.sup.status().state).toBe('crash-looping');
  });

  it('reports a backend that never became ready (neverReady) after unhealthyGraceMs from start()', async () => {
    const t = setup();
    await t.sup.start(fakeSpec());
    t.prober.set('/liveness', OK);
    await t.clock.advance(30_000);
    expect(t.of('unhealthy-too-long')).toEqual([expect.objectContaining({ neverReady: true, forMs: 30_000 })]);
    expect(t.of('ready')).toHaveLength(0);
  });

  it('stop(): SIGTERM, SIGKILL only after stopGraceMs, resolves when the process is gone, no restart', async () => {
    const t = setup();
    t.spawner.ignoreTerm = true;
    await t.sup.start(fakeSpec({ stopGraceMs: 3000 }));
    let stopped = false;
    const stopping = t.sup.stop().then(() => { stopped = true; });
    await flushAsync();
    expect(t.spawner.last.signals).toEqual(['SIGTERM']);
    expect(t.sup.status().state).toBe('stopping');
    await t.clock.advance(2999);
    expect(stopped).toBe(false);
    expect(t.spawner.last.alive).toBe(true);
    await t.clock.advance(1);
    await stopping;
    expect(t.spawner.last.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(t.sup.status()).toMatchObject({ state: 'stopped', pid: undefined });
    expect(t.sup.status().lastExit).toMatchObject({ reason: 'stopped', signal: 'SIGKILL' });
    await t.clock.advance(600_000);
    expect(t.spawner.procs).toHaveLength(1);
    expect(t.clock.pending()).toBe(0);
    expect(t.of('unready')).toHaveLength(0);
  });

  it('stop() during a backoff cancels the restart', async () => {
    const t = setup();
    await t.sup.start(fakeSpec());
    t.spawner.last.exit(1);
    await flushAsync();
    await t.sup.stop();
    expect(t.sup.status().state).toBe('stopped');
    await t.clock.advance(600_000);
    expect(t.spawner.procs).toHaveLength(1);
    expect(t.of('unhealthy-too-long')).toHaveLength(0);
  });

  it('stop() while a start is in flight waits for it, then ends what it started', async () => {
    const t = setup();
    let open: () => void = () => undefined;
    t.spawner.gate = new Promise((r) => { open = r; });
    const starting = t.sup.start(fakeSpec());
    const stopping = t.sup.stop();
    await flushAsync();
    expect(t.spawner.procs).toHaveLength(0);
    open();
    await starting;
    await stopping;
    expect(t.spawner.procs).toHaveLength(1);
    expect(t.spawner.last.alive).toBe(false);
    expect(t.sup.status().state).toBe('stopped');
  });

  it('swap(): the old process is gone before the new one is spawned; a bad new spec keeps the old', async () => {
    const t = setup();
    await t.sup.start(fakeSpec());
    const old = t.spawner.last;
    await expect(t.sup.swap(fakeSpec({ argv: ['cilium-agent'] }))).rejects.toThrow(ConfigError);
    expect(old.alive).toBe(true);
    expect(t.sup.status().state).toBe('starting');

    await t.sup.swap(fakeSpec({ name: 'cilium-agent', argv: ['/usr/bin/cilium-agent'] }));
    expect(t.spawner.journal).toEqual([`spawn ${String(old.pid)}`, `signal ${String(old.pid)} SIGTERM`, `exit ${String(old.pid)}`, `spawn ${String(t.spawner.last.pid)}`]);
    expect(t.sup.status()).toMatchObject({ backend: 'cilium-agent', state: 'starting', restarts: 0 });
    expect(t.states()).toEqual(['starting', 'stopping', 'stopped', 'starting']);
  });

  it('refuses a second start() while supervising', async () => {
    const t = setup();
    await t.sup.start(fakeSpec());
    await expect(t.sup.start(fakeSpec())).rejects.toThrow(ConflictError);
    expect(t.spawner.procs).toHaveLength(1);
  });

  it('retries a process that cannot start, with backoff, and says why', async () => {
    const t = setup();
    t.spawner.failNext = 'spawn /usr/bin/calico-felix ENOENT';
    await t.sup.start(fakeSpec());
    expect(t.spawner.procs).toHaveLength(0);
    expect(t.sup.status().state).toBe('crash-looping');
    expect(t.sup.status().lastExit).toMatchObject({ reason: 'spawn-failed', pid: null });
    expect(t.sup.status().lastExit?.error).toContain('ENOENT');
    expect(t.of('restarting')).toEqual([expect.objectContaining({ reason: 'spawn-failed', delayMs: 1000 })]);
    await t.clock.advance(1000);
    expect(t.spawner.procs).toHaveLength(1);
  });

  it('gives up after giveUpAfterCrashes in a row (when configured), and can be started again', async () => {
    const t = setup({ giveUpAfterCrashes: 3 });
    await t.sup.start(fakeSpec());
    for (let i = 0; i < 3; i++) {
      t.spawner.last.exit(1);
      await t.clock.advance(10_000);
    }
    expect(t.spawner.procs).toHaveLength(3);
    expect(t.of('gave-up')).toEqual([expect.objectContaining({ crashes: 3 })]);
    expect(t.sup.status().state).toBe('stopped');
    await t.clock.advance(600_000);
    expect(t.spawner.procs).toHaveLength(3);
    await t.sup.start(fakeSpec());
    expect(t.spawner.procs).toHaveLength(4);
  });

  it('logs the output line by line with the backend name; a throwing listener is logged, not fatal', async () => {
    const t = setup();
    const off = t.sup.on(() => { throw new Error('listener bug'); });
    await t.sup.start(fakeSpec());
    t.spawner.last.opts.onOutput('stderr', Buffer.from('2026-12-05 INFO felix started\npartial'));
    t.spawner.last.opts.onOutput('stderr', null);
    const out = t.captured.lines().filter((l) => l.msg === 'backend output');
    expect(out).toEqual([
      expect.objectContaining({ backend: 'felix', stream: 'stderr', line: '2026-12-05 INFO felix started' }),
      expect.objectContaining({ backend: 'felix', stream: 'stderr', line: 'partial' }),
    ]);
    expect(t.captured.lines().some((l) => l.msg === 'policy supervisor listener failed')).toBe(true);
    off();
    expect(t.sup.status().state).toBe('starting');
  });
});
