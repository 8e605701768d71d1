import { describe, expect, it } from '@jest/globals';
import { ConfigError, ExhaustedError, InvalidInputError, UnavailableError, BusyError } from '../../../src/lib/errors.js';
import { eventKey, failureReason, phaseReason, shouldPost } from '../../../src/daemon/wait-reasons.js';
import { WaitRegistry } from '../../../src/daemon/waits.js';
import type { PoolWaitReason } from '../../../src/pool/wait-reason.js';

const AT = 1_000_000;

describe('wait reasons', () => {
  it('a failed allocation: bad annotation, backend not ready (policy phase), no IP, config; refusals and duplicates are no wait', () => {
    expect(failureReason(new ConfigError('kubernetes.io/egress-bandwidth', 'bad quantity "x"'), 'pod-lookup', AT, undefined)).toMatchObject({ kind: 'bad-annotation', since: AT, detail: { annotation: 'kubernetes.io/egress-bandwidth' } });
    expect(failureReason(new UnavailableError('nft failed'), 'policy', AT, 'builtin NetworkPolicy rules not programmed: x')).toMatchObject({ kind: 'backend-not-ready', text: 'NetworkPolicy backend not ready: builtin NetworkPolicy rules not programmed: x; the ADD is refused until its rules are programmed' });
    expect(failureReason(new ExhaustedError('no IP left'), 'address', AT, undefined)).toMatchObject({ kind: 'ip-exhausted', text: 'no IP: no IP left' });
    expect(failureReason(new ConfigError('mode', 'needs x'), 'pod-lookup', AT, undefined)).toMatchObject({ kind: 'config-refused', detail: { field: 'mode' } });
    expect(failureReason(new UnavailableError('store closed'), 'storing', AT, undefined)).toMatchObject({ kind: 'add-failed', text: 'the last ADD failed (unavailable): store closed' });
    for (const e of [new InvalidInputError('pod', 'host network'), new BusyError('in flight')]) expect(failureReason(e, 'pod-lookup', AT, undefined)).toBeUndefined();
  });

  it('the address phase takes the pool\'s reason and time', () => {
    const pool: PoolWaitReason = { kind: 'throttled', text: 't', since: AT - 5, retryAt: AT + 5, detail: { cloud: 'c' } };
    expect(phaseReason('address', AT, pool, undefined)).toEqual({ kind: 'throttled', text: 't', since: AT - 5, retryAt: AT + 5, detail: { cloud: 'c' } });
    expect(phaseReason('eni-setup', AT, pool, undefined)).toMatchObject({ kind: 'eni-setup', since: AT });
  });

  it('an event again when the reason (kind or facts) changes, not for counts; otherwise once per repost period', () => {
    const w = { kind: 'pool-refilling' as const, text: 'waiting for 3 IPs', since: AT, detail: { cloud: 'c', ips: '3', calls: '1' } };
    const posted = { key: eventKey(w), at: AT };
    expect(shouldPost(undefined, w, AT, 30_000)).toBe(true);
    expect(shouldPost(posted, { ...w, text: 'waiting for 5 IPs', detail: { cloud: 'c', ips: '5', calls: '2' } }, AT + 10, 30_000)).toBe(false);
    expect(shouldPost(posted, w, AT + 30_000, 30_000)).toBe(true);
    expect(shouldPost(posted, { ...w, kind: 'eni-attaching' }, AT + 10, 30_000)).toBe(true);
    expect(shouldPost(posted, { ...w, detail: { cloud: 'c', vSwitch: 'vsw-b' } }, AT + 10, 30_000)).toBe(true);
  });
});

describe('WaitRegistry', () => {
  function registry(over: { policy?: string } = {}) {
    let now = AT;
    const events: string[] = [];
    const reg = new WaitRegistry({ now: () => now, post: (ns, name, m) => events.push(`${ns}/${name}: ${m}`), policyNotReady: () => over.policy, refreshMs: 1000, repostMs: 30_000, failureTtlMs: 60_000 });
    return { reg, events, advance: (ms: number) => { now += ms; } };
  }

  it('follows an allocation through its phases; the pool\'s live reason; told when it waits, again when the reason changes', () => {
    const { reg, events, advance } = registry();
    const t = reg.begin('ns', 'p');
    expect(reg.reason('ns', 'p')).toMatchObject({ kind: 'pod-lookup' });
    let pool: PoolWaitReason = { kind: 'pool-empty', text: 'asking', detail: { cloud: 'c' } };
    t.phase('address', () => pool);
    t.waiting();
    expect(events).toEqual(['ns/p: waiting (pool-empty): asking']);
    pool = { kind: 'eni-attaching', text: 'a new ENI', since: AT, detail: { cloud: 'c', vSwitch: 'v' } };
    expect(reg.reason('ns', 'p')).toMatchObject({ kind: 'eni-attaching', text: 'a new ENI' });
    reg.refresh();
    expect(events).toEqual(['ns/p: waiting (pool-empty): asking', 'ns/p: waiting (eni-attaching): a new ENI']);
    advance(10_000);
    reg.refresh();
    expect(events).toHaveLength(2); // the same reason: not before the repost period
    advance(30_000);
    reg.refresh();
    expect(events).toHaveLength(3);
    t.end();
    expect(reg.reason('ns', 'p')).toBeUndefined();
    expect(reg.allocating('ns', 'p')).toBe(false);
  });

  it('an allocation lasting past a refresh is told even without a pool wait; quick ones are not', () => {
    const { reg, events, advance } = registry();
    const quick = reg.begin('ns', 'q');
    quick.phase('storing');
    reg.refresh();
    quick.end();
    const slow = reg.begin('ns', 's');
    slow.phase('eni-setup');
    advance(1500);
    reg.refresh();
    expect(events).toEqual(['ns/s: waiting (eni-setup): setting up the granted ENI on the host (link up, routes)']);
    slow.end();
  });

  it('a failure stays the reason until success, forget or its TTL; no pod name: nothing is tracked', () => {
    const { reg, events, advance } = registry();
    reg.begin('ns', 'b').end(new ExhaustedError('none left'));
    expect(reg.reason('ns', 'b')).toMatchObject({ kind: 'ip-exhausted' });
    reg.begin('ns', 'b').end(new ExhaustedError('none left'));
    expect(events).toEqual(['ns/b: waiting (ip-exhausted): no IP: none left']);
    reg.begin('ns', 'b').end();
    expect(reg.reason('ns', 'b')).toBeUndefined();
    reg.begin('ns', 'c').end(new ExhaustedError('x'));
    reg.forget('ns', 'c');
    expect(reg.reason('ns', 'c')).toBeUndefined();
    reg.begin('ns', 'd').end(new ExhaustedError('x'));
    advance(60_001);
    expect(reg.reason('ns', 'd')).toBeUndefined();
    const anon = reg.begin('', '');
    anon.phase('address');
    anon.end(new ExhaustedError('x'));
    expect(reg.reason('', '')).toBeUndefined();
  });
});
