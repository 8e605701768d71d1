import { describe, expect, it } from '@jest/globals';
import { poolWaitReason, type PoolFailure, type PoolWaitFacts } from '../../../src/pool/wait-reason.js';

const NOW = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function facts(over: Partial<PoolWaitFacts> = {}): PoolWaitFacts {
  return { now: NOW, cloud: 'aliyun', started: true, creating: [], assigning: 0, assignCalls: 0, vSwitches: [{ id: 'vsw-a', inhibitedUntil: 0 }, { id: 'vsw-b', inhibitedUntil: 0 }], createInhibitedUntil: 0, pausedUntil: 0, fatalPause: false, ...over };
}

const failure = (over: Partial<PoolFailure>): PoolFailure => ({ action: 'create-eni', kind: 'transient', message: 'boom', at: NOW - 1000, ...over });

describe('poolWaitReason', () => {
  it('nothing under way: the pool is empty and asks (IPs, or whole ENIs)', () => {
    expect(poolWaitReason(facts())).toEqual({ kind: 'pool-empty', text: 'no idle IP on this node: asking aliyun for more', detail: { cloud: 'aliyun' } });
    expect(poolWaitReason(facts({ unit: 'eni' })).text).toBe('no idle ENI on this node: asking aliyun for one');
  });

  it('IPs being assigned: pool-refilling with the IPs and calls in flight', () => {
    expect(poolWaitReason(facts({ assigning: 7, assignCalls: 2 }))).toEqual({ kind: 'pool-refilling', text: 'waiting for 7 IPs being assigned by aliyun (2 calls in flight)', detail: { cloud: 'aliyun', ips: '7', calls: '2' } });
  });

  it('an ENI being created wins over an Assign: eni-attaching with its vSwitch and since', () => {
    const r = poolWaitReason(facts({ assigning: 3, assignCalls: 1, creating: [{ vSwitchId: 'vsw-b', ips: 10, since: NOW - 4000 }] }));
    expect(r).toEqual({ kind: 'eni-attaching', text: 'waiting for a new ENI from aliyun (1 being created and attached on vSwitch vsw-b, 10 IPs)', since: NOW - 4000, detail: { cloud: 'aliyun', vSwitch: 'vsw-b', enis: '1', ips: '10' } });
  });

  it('a vSwitch out of addresses: inhibited until, failing over to the others, or to the one an ENI is being created on', () => {
    const until = NOW + 600_000;
    const last = failure({ kind: 'vswitch-exhausted', cause: 'vswitch-ip-exhausted', message: 'InvalidVSwitchId.IpNotEnough', vSwitchId: 'vsw-a' });
    const idle = poolWaitReason(facts({ vSwitches: [{ id: 'vsw-a', inhibitedUntil: until }, { id: 'vsw-b', inhibitedUntil: 0 }], lastFailure: last }));
    expect(idle).toMatchObject({ kind: 'vswitch-exhausted', since: NOW - 1000, retryAt: until, detail: { vSwitch: 'vsw-a', failover: 'vsw-b', cause: 'vswitch-ip-exhausted' } });
    expect(idle.text).toBe(`vSwitch vsw-a has no free IP (inhibited until ${iso(until)}); failing over to vsw-b`);
    const moving = poolWaitReason(facts({ vSwitches: [{ id: 'vsw-a', inhibitedUntil: until }, { id: 'vsw-b', inhibitedUntil: 0 }], creating: [{ vSwitchId: 'vsw-b', ips: 2, since: NOW }], lastFailure: last }));
    expect(moving.text).toBe(`vSwitch vsw-a has no free IP (inhibited until ${iso(until)}); failing over: a new ENI is being created on vsw-b`);
    const none = poolWaitReason(facts({ vSwitches: [{ id: 'vsw-a', inhibitedUntil: until }, { id: 'vsw-b', inhibitedUntil: until + 5 }], lastFailure: last }));
    expect(none.text).toMatch(/^vSwitch vsw-a, vsw-b has no free IP .*; no other vSwitch of the zone is usable$/u);
    expect(none.detail.failover).toBeUndefined();
    // an inhibit window that has passed is no reason
    expect(poolWaitReason(facts({ vSwitches: [{ id: 'vsw-a', inhibitedUntil: NOW - 1 }], lastFailure: last })).kind).toBe('pool-empty');
  });

  it('throttled: the last call throttled and none succeeded since; when the pool tries again', () => {
    const last = failure({ action: 'assign', cause: 'throttled', message: 'Throttling: Request was denied due to request throttling.' });
    const paused = poolWaitReason(facts({ pausedUntil: NOW + 2000, lastFailure: last }));
    expect(paused).toEqual({
      kind: 'throttled',
      text: `throttled by aliyun (assign: Throttling: Request was denied due to request throttling.); the pool tries again at ${iso(NOW + 2000)}`,
      since: NOW - 1000,
      retryAt: NOW + 2000,
      detail: { cloud: 'aliyun', action: 'assign', error: last.message, cause: 'throttled' },
    });
    // the retry is under way (the client backs off): still throttled, no retry time
    const retrying = poolWaitReason(facts({ assigning: 2, assignCalls: 1, lastFailure: last }));
    expect(retrying.kind).toBe('throttled');
    expect(retrying.retryAt).toBeUndefined();
    expect(retrying.text).toMatch(/the pool is trying again now$/u);
    // a factory without causes: the message says it
    expect(poolWaitReason(facts({ lastFailure: failure({ message: 'Throttling.User' }) })).kind).toBe('throttled');
  });

  it('ENI quota, another transient failure, a refused call, a pool that has not started', () => {
    expect(poolWaitReason(facts({ createInhibitedUntil: NOW + 60_000, lastFailure: failure({ kind: 'eni-quota', message: 'EniPerInstanceLimitExceeded' }) }))).toMatchObject({ kind: 'eni-quota', retryAt: NOW + 60_000 });
    expect(poolWaitReason(facts({ pausedUntil: NOW + 2000, lastFailure: failure({ message: 'InternalError' }) }))).toMatchObject({ kind: 'cloud-retry', retryAt: NOW + 2000, text: `the last call to aliyun failed (InternalError); the pool tries again at ${iso(NOW + 2000)}` });
    expect(poolWaitReason(facts({ pausedUntil: NOW + 60_000, fatalPause: true, lastFailure: failure({ kind: 'fatal', message: 'Forbidden.RAM' }) }))).toMatchObject({ kind: 'cloud-refused', retryAt: NOW + 60_000 });
    expect(poolWaitReason(facts({ started: false, startFailure: 'InvalidAccessKeyId.NotFound' }))).toEqual({ kind: 'pool-not-started', text: 'the aliyun ENI pool has not started: InvalidAccessKeyId.NotFound; retrying', detail: { cloud: 'aliyun', error: 'InvalidAccessKeyId.NotFound' } });
  });
});
