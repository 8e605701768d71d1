/** Lease store schema v3: runtime_bandwidth (the plugin's runtimeConfig limits) and the v2 → v3 migration. */
import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { LEASES_DB, LeaseStore, SCHEMA_VERSION } from '../../../src/store/store.js';
import { InternalError } from '../../../src/lib/errors.js';
import { lease } from '../daemon/helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';

/** The schema exactly as a v2 daemon left it (v1 + v2 migrations), with one lease and one reservation. */
function writeV2Db(dir: string): void {
  const db = new Database(join(dir, LEASES_DB));
  db.exec(`CREATE TABLE leases (
     container_id TEXT NOT NULL, if_name TEXT NOT NULL, pod_namespace TEXT NOT NULL, pod_name TEXT NOT NULL,
     infra_container_id TEXT NOT NULL, netns TEXT NOT NULL, mode TEXT NOT NULL, ip TEXT NOT NULL,
     allocation TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (container_id, if_name)
   ) STRICT;
   CREATE UNIQUE INDEX leases_ip ON leases (ip);
   CREATE INDEX leases_pod ON leases (pod_namespace, pod_name);
   ALTER TABLE leases ADD COLUMN sticky INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE reservations (
     pod_namespace TEXT NOT NULL, pod_name TEXT NOT NULL, if_name TEXT NOT NULL, ip TEXT NOT NULL,
     allocation TEXT NOT NULL, released_at TEXT NOT NULL, expires_at TEXT NOT NULL,
     PRIMARY KEY (pod_namespace, pod_name, if_name)
   ) STRICT;
   CREATE UNIQUE INDEX reservations_ip ON reservations (ip);`);
  const alloc = JSON.stringify({ mode: 'vpc', ip: '10.0.0.10', subnet: '10.0.0.0/24', mtu: 1500, bandwidth: { ingress: { rateBps: 10_000_000, burstBits: 524_288 } } });
  db.prepare(`INSERT INTO leases VALUES ('old', 'eth0', 'default', 'web', 'old', '/var/run/netns/old', 'vpc', '10.0.0.10', ?, '2024-01-01T00:00:00.000Z', 1)`).run(alloc);
  db.prepare(`INSERT INTO reservations VALUES ('default', 'db-0', 'eth0', '10.0.0.11', ?, '2024-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z')`).run(alloc.replace('10.0.0.10', '10.0.0.11'));
  db.pragma('user_version = 2');
  db.close();
}

const spec = { ingress: { rateBps: 8_000_000, burstBits: 1_000_000 }, egress: { rateBps: 1_000, burstBits: 524_288 } };

describe('LeaseStore v3 (runtime_bandwidth)', () => {
  it('is schema v4 (v3 added runtime_bandwidth, v4 the pool tables)', () => {
    expect(SCHEMA_VERSION).toBe(4);
  });

  it('migrates a v2 database file: old leases and reservations read back unchanged, without runtimeBandwidth', () => {
    const dir = tempDir();
    writeV2Db(dir);
    const s = LeaseStore.open(dir);
    expect(s.schemaVersion()).toBe(SCHEMA_VERSION);
    const old = s.get({ containerId: 'old', ifName: 'eth0' });
    expect(old).toMatchObject({ sticky: true, podName: 'web', allocation: { ip: '10.0.0.10', bandwidth: { ingress: { rateBps: 10_000_000 } } } });
    expect(old).not.toHaveProperty('runtimeBandwidth');
    expect(s.reservation('default', 'db-0', 'eth0')?.ip).toBe('10.0.0.11');
    // new leases with runtime limits can be written next to the migrated ones
    s.put(lease('new', '10.0.0.12', { runtimeBandwidth: spec }));
    expect(s.get({ containerId: 'new', ifName: 'eth0' })?.runtimeBandwidth).toEqual(spec);
    s.close();
    // a second open does not migrate again; a read-only open accepts v3
    const again = LeaseStore.open(dir);
    expect(again.schemaVersion()).toBe(SCHEMA_VERSION);
    again.close();
    const ro = LeaseStore.open(dir, { readonly: true });
    expect(ro.list().map((l) => l.containerId).sort()).toEqual(['new', 'old']);
    ro.close();
  });

  it('round-trips runtimeBandwidth (one direction, both, none) across reopen', () => {
    const dir = tempDir();
    const s = LeaseStore.open(dir);
    const a = lease('a', '10.0.0.10', { runtimeBandwidth: { egress: spec.egress } });
    const b = lease('b', '10.0.0.11', { runtimeBandwidth: spec });
    const c = lease('c', '10.0.0.12');
    for (const l of [a, b, c]) s.put(l);
    s.close();
    const r = LeaseStore.open(dir);
    expect(r.get(a)).toEqual(a);
    expect(r.get(b)).toEqual(b);
    expect(r.get(c)).toEqual(c);
    expect(r.get(c)).not.toHaveProperty('runtimeBandwidth');
    r.close();
  });

  it('a corrupt runtime_bandwidth is an InternalError naming the lease', () => {
    const dir = tempDir();
    const s = LeaseStore.open(dir);
    s.put(lease('x', '10.0.0.10', { runtimeBandwidth: spec }));
    s.close();
    const db = new Database(join(dir, LEASES_DB));
    db.prepare(`UPDATE leases SET runtime_bandwidth = '{"ingress":{"rateBps":"fast"}}'`).run();
    db.close();
    const r = LeaseStore.open(dir);
    expect(() => r.get({ containerId: 'x', ifName: 'eth0' })).toThrow(InternalError);
    expect(() => r.get({ containerId: 'x', ifName: 'eth0' })).toThrow(/x\/eth0: malformed runtime_bandwidth/u);
    r.close();
  });

  it('setAllocationBandwidth replaces (or removes) the annotation limits of a lease; listByPod finds a pod\'s leases', () => {
    const s = LeaseStore.open(tempDir());
    s.put(lease('a', '10.0.0.10', { podName: 'web', allocation: { mode: 'vpc', ip: '10.0.0.10' as never, subnet: '10.0.0.0/24' as never, mtu: 1500, bandwidth: { ingress: spec.ingress } }, runtimeBandwidth: { egress: spec.egress } }));
    s.put(lease('b', '10.0.0.11', { podName: 'web', ifName: 'eth1' }));
    s.put(lease('c', '10.0.0.12', { podName: 'other' }));
    expect(s.listByPod('default', 'web').map((l) => `${l.containerId}/${l.ifName}`)).toEqual(['a/eth0', 'b/eth1']);
    expect(s.setAllocationBandwidth({ containerId: 'a', ifName: 'eth0' }, { egress: spec.egress })).toBe(true);
    expect(s.get({ containerId: 'a', ifName: 'eth0' })).toMatchObject({ allocation: { ip: '10.0.0.10', bandwidth: { egress: spec.egress } }, runtimeBandwidth: { egress: spec.egress } });
    expect(s.setAllocationBandwidth({ containerId: 'a', ifName: 'eth0' }, undefined)).toBe(true);
    expect(s.get({ containerId: 'a', ifName: 'eth0' })?.allocation).toEqual({ mode: 'vpc', ip: '10.0.0.10', subnet: '10.0.0.0/24', mtu: 1500 });
    expect(s.setAllocationBandwidth({ containerId: 'gone', ifName: 'eth0' }, undefined)).toBe(false);
    s.close();
  });
});
