/** The supervisor's pure parts: backoff, option and spec checks, the bounded line buffer, the metric set. */
import { Registry } from 'prom-client';
import { ConfigError } from '../../../src/lib/errors.js';
import { supervisorOptions } from '../../../src/policy/supervisor.js';
import { backoffDelay } from '../../../src/policy/supervisor/backoff.js';
import { createPolicyBackendMetrics } from '../../../src/policy/supervisor/metrics.js';
import { LineBuffer } from '../../../src/policy/supervisor/output.js';
import { checkProcessSpec } from '../../../src/policy/supervisor/spec-check.js';
import type { SupervisorStatus } from '../../../src/policy/supervisor/types.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { fakeSpec } from './supervisor-fakes.js';

describe('backoffDelay', () => {
  const o = { baseMs: 1000, capMs: 60_000, jitter: 0 };
  it('doubles per crash from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, o, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
  });
  it('stays at the cap for huge streaks (no overflow to Infinity or NaN)', () => {
    expect(backoffDelay(5000, o, () => 0.5)).toBe(60_000);
  });
  it('jitters within ± jitter and never above the cap', () => {
    const j = { ...o, jitter: 0.2 };
    expect(backoffDelay(3, j, () => 0)).toBe(3200);
    expect(backoffDelay(3, j, () => 0.999999)).toBe(4800);
    expect(backoffDelay(10, j, () => 0.999999)).toBe(60_000);
    expect(backoffDelay(10, j, () => 0)).toBe(48_000);
  });
});

describe('supervisorOptions', () => {
  it('fills defaults and merges a partial backoff', () => {
    const o = supervisorOptions({ backoff: { baseMs: 10 } });
    expect(o.backoff).toEqual({ baseMs: 10, capMs: 60_000, jitter: 0.2 });
    expect(o.giveUpAfterCrashes).toBeUndefined();
  });
  it.each([
    [{ backoff: { jitter: 2 } }, 'supervisor.backoff.jitter'],
    [{ backoff: { baseMs: 5000, capMs: 1000 } }, 'supervisor.backoff.capMs'],
    [{ probeIntervalMs: 0 }, 'supervisor.probeIntervalMs'],
    [{ unhealthyGraceMs: -1 }, 'supervisor.unhealthyGraceMs'],
    [{ giveUpAfterCrashes: 0 }, 'supervisor.giveUpAfterCrashes'],
  ])('refuses %j naming %s', (input, field) => {
    expect(() => supervisorOptions(input)).toThrow(ConfigError);
    expect(() => supervisorOptions(input)).toThrow(new RegExp(`^${field.replace(/\./g, '\\.')}: `));
  });
});

describe('checkProcessSpec', () => {
  it('accepts a Felix-like and a Cilium-like spec', () => {
    expect(() => { checkProcessSpec(fakeSpec()); }).not.toThrow();
    const h = { host: '127.0.0.1', port: 9879, path: '/healthz', headers: { brief: 'true', 'require-k8s-connectivity': 'false' } };
    expect(() => { checkProcessSpec(fakeSpec({ name: 'cilium-agent', liveness: h, readiness: { ...h, headers: { brief: 'true' } }, restartNowExitCodes: [] })); }).not.toThrow();
    expect(() => { checkProcessSpec(fakeSpec({ liveness: { host: '::1', port: 1, path: '/x' } })); }).not.toThrow();
  });
  it.each([
    [{ argv: ['calico-felix'] as [string] }, 'argv[0]', 'not an absolute path'],
    [{ argv: ['/bin/x', 'a\0b'] as [string, string] }, 'argv[1]', 'NUL'],
    [{ env: { 'A=B': '1' } }, 'env', 'not an environment variable name'],
    [{ liveness: { host: 'localhost', port: 9099, path: '/liveness' } }, 'liveness.host', 'loopback'],
    [{ readiness: { host: '10.0.0.1', port: 9099, path: '/readiness' } }, 'readiness.host', 'loopback'],
    [{ readiness: { host: '127.0.0.1', port: 70000, path: '/readiness' } }, 'readiness.port', '70000'],
    [{ readiness: { host: '127.0.0.1', port: 1, path: 'readiness' } }, 'readiness.path', 'start with /'],
    [{ liveness: { host: '127.0.0.1', port: 1, path: '/h', headers: { brief: 'true\r\nX: y' } } }, 'liveness.headers.brief', 'line break'],
    [{ liveness: { host: '127.0.0.1', port: 1, path: '/h', headers: { 'bad header': 'x' } } }, 'liveness.headers', 'header name'],
    [{ restartNowExitCodes: [256] }, 'restartNowExitCodes[0]', '256'],
    [{ stopGraceMs: Number.NaN }, 'stopGraceMs', 'NaN'],
    [{ name: 'Felix!' }, 'name', 'Felix!'],
  ])('refuses %j: %s', (over, field, text) => {
    expect(() => { checkProcessSpec(fakeSpec(over)); }).toThrow(ConfigError);
    try {
      checkProcessSpec(fakeSpec(over));
    } catch (e) {
      expect((e as ConfigError).path).toBe(field);
      expect((e as Error).message).toContain(text);
    }
  });
});

describe('LineBuffer', () => {
  function buffer(maxLineBytes = 16, maxLinesPerSecond = 1000): { buf: LineBuffer; lines: string[]; dropped: number[]; clock: FakeClock } {
    const lines: string[] = [];
    const dropped: number[] = [];
    const clock = new FakeClock();
    const buf = new LineBuffer({ line: (l) => lines.push(l), dropped: (n) => dropped.push(n) }, { maxLineBytes, maxLinesPerSecond }, clock);
    return { buf, lines, dropped, clock };
  }
  it('joins chunks into lines and strips CR', () => {
    const { buf, lines } = buffer();
    buf.push(Buffer.from('hel'));
    buf.push(Buffer.from('lo\r\nwor'));
    expect(lines).toEqual(['hello']);
    buf.push(Buffer.from('ld\n\n'));
    expect(lines).toEqual(['hello', 'world', '']);
  });
  it('keeps a multi-byte character split between chunks intact', () => {
    const { buf, lines } = buffer(64);
    const bytes = Buffer.from('é€\n');
    buf.push(bytes.subarray(0, 1));
    buf.push(bytes.subarray(1));
    expect(lines).toEqual(['é€']);
  });
  it('cuts a long line and drops the rest up to its newline', () => {
    const { buf, lines } = buffer(8);
    buf.push(Buffer.from('0123456789abcdef'));
    buf.push(Buffer.from('ghij\nnext\n'));
    expect(lines).toEqual(['01234567 …(cut)', 'next']);
  });
  it('flushes a last line without a newline at the end', () => {
    const { buf, lines } = buffer();
    buf.push(Buffer.from('tail'));
    expect(lines).toEqual([]);
    buf.end();
    expect(lines).toEqual(['tail']);
  });
  it('limits lines per second and reports how many were dropped', async () => {
    const { buf, lines, dropped, clock } = buffer(64, 3);
    buf.push(Buffer.from('a\nb\nc\nd\ne\n'));
    expect(lines).toEqual(['a', 'b', 'c']);
    expect(dropped).toEqual([]);
    await clock.advance(1000);
    buf.push(Buffer.from('f\n'));
    expect(dropped).toEqual([2]);
    expect(lines).toEqual(['a', 'b', 'c', 'f']);
    buf.push(Buffer.from('g\nh\ni\n'));
    buf.end();
    expect(dropped).toEqual([2, 1]);
  });
});

describe('createPolicyBackendMetrics', () => {
  const status = (over: Partial<SupervisorStatus>): SupervisorStatus => ({
    backend: 'felix',
    state: 'starting',
    since: 0,
    pid: 1,
    restarts: 0,
    consecutiveCrashes: 0,
    lastExit: undefined,
    lastProbeError: undefined,
    nextStartAt: undefined,
    notReadySince: undefined,
    ...over,
  });
  it('shows the current state as 1 and counts restarts by reason and outages', async () => {
    const registry = new Registry();
    const m = createPolicyBackendMetrics(registry, 'terway_hub_');
    m.observe({ type: 'state', from: 'starting', to: 'ready', status: status({ state: 'ready' }) });
    m.observe({ type: 'restarting', backend: 'felix', reason: 'crash', delayMs: 1000, status: status({}) });
    m.observe({ type: 'restarting', backend: 'felix', reason: 'restart-requested', delayMs: 0, status: status({}) });
    m.observe({ type: 'restarting', backend: 'felix', reason: 'crash', delayMs: 2000, status: status({}) });
    m.observe({ type: 'unhealthy-too-long', backend: 'felix', forMs: 1, neverReady: false, status: status({}) });
    const text = await registry.metrics();
    expect(text).toContain('terway_hub_policy_backend_state{backend="felix",state="ready"} 1');
    expect(text).toContain('terway_hub_policy_backend_state{backend="felix",state="starting"} 0');
    expect(text).toContain('terway_hub_policy_backend_restarts_total{backend="felix",reason="crash"} 2');
    expect(text).toContain('terway_hub_policy_backend_restarts_total{backend="felix",reason="restart-requested"} 1');
    expect(text).toContain('terway_hub_policy_backend_unhealthy_too_long_total{backend="felix"} 1');
    m.observe({ type: 'state', from: 'ready', to: 'crash-looping', status: status({ state: 'crash-looping' }) });
    const after = await registry.metrics();
    expect(after).toContain('terway_hub_policy_backend_state{backend="felix",state="ready"} 0');
    expect(after).toContain('terway_hub_policy_backend_state{backend="felix",state="crash-looping"} 1');
  });
});
