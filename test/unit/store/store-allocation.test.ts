/**
 * The lease store parses its allocation column with the RPC's parser (src/modes/allocation.ts): the union by mode.
 * The rows below are byte for byte what the store wrote before the allocation became a union (commit 4e35592's
 * LeaseStore.put and setAllocationBandwidth, run once to capture them): they must keep reading back.
 */
import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { InternalError } from '../../../src/lib/errors.js';
import { LEASES_DB, LeaseStore } from '../../../src/store/store.js';
import { tempDir } from '../../helpers/tmp.js';

const PRE_UNION_ROWS = [
  {
    container_id: 'old-vpc', if_name: 'eth0', pod_namespace: 'default', pod_name: 'web', infra_container_id: 'old-vpc', netns: '/var/run/netns/old-vpc',
    mode: 'vpc', ip: '10.0.0.10',
    allocation: '{"mode":"vpc","ip":"10.0.0.10","subnet":"10.0.0.0/24","mtu":1500,"bandwidth":{"ingress":{"rateBps":20000000,"burstBits":524288}}}',
    created_at: '2024-01-01T00:00:00.000Z', sticky: 1, runtime_bandwidth: null,
  },
  {
    container_id: 'old-vpr', if_name: 'eth0', pod_namespace: 'default', pod_name: 'db', infra_container_id: 'old-vpr', netns: '/var/run/netns/old-vpr',
    mode: 'veth-policy-routing', ip: '192.168.0.11',
    allocation:
      '{"mode":"veth-policy-routing","ip":"192.168.0.11","subnet":"192.168.0.0/24","mtu":1450,"eni":{"link":"eth1","ifindex":3,"gateway":"192.168.0.253","table":1003},"bandwidth":{"egress":{"rateBps":10000000,"burstBits":800000}}}',
    created_at: '2024-01-01T00:00:00.000Z', sticky: 0, runtime_bandwidth: '{"ingress":{"rateBps":8000000,"burstBits":1000000}}',
  },
];

function insert(dir: string, rows: readonly Record<string, unknown>[]): void {
  LeaseStore.open(dir).close(); // the current schema (v3, unchanged by the union)
  const db = new Database(join(dir, LEASES_DB));
  const stmt = db.prepare(
    `INSERT INTO leases (container_id, if_name, pod_namespace, pod_name, infra_container_id, netns, mode, ip, allocation, created_at, sticky, runtime_bandwidth)
     VALUES (@container_id, @if_name, @pod_namespace, @pod_name, @infra_container_id, @netns, @mode, @ip, @allocation, @created_at, @sticky, @runtime_bandwidth)`,
  );
  for (const r of rows) stmt.run(r);
  db.close();
}

describe('lease store: allocations as a union by mode', () => {
  it('reads lease rows written before the union (vpc without ENI; veth-policy-routing with its ENI, limits)', () => {
    const dir = tempDir();
    insert(dir, PRE_UNION_ROWS);
    const s = LeaseStore.open(dir);
    expect(s.get({ containerId: 'old-vpc', ifName: 'eth0' })?.allocation).toEqual({
      mode: 'vpc', ip: '10.0.0.10', subnet: '10.0.0.0/24', mtu: 1500, bandwidth: { ingress: { rateBps: 20_000_000, burstBits: 524_288 } },
    });
    const vpr = s.get({ containerId: 'old-vpr', ifName: 'eth0' });
    expect(vpr?.allocation).toEqual({
      mode: 'veth-policy-routing', ip: '192.168.0.11', subnet: '192.168.0.0/24', mtu: 1450,
      eni: { link: 'eth1', ifindex: 3, gateway: '192.168.0.253', table: 1003 }, bandwidth: { egress: { rateBps: 10_000_000, burstBits: 800_000 } },
    });
    expect(vpr?.runtimeBandwidth).toEqual({ ingress: { rateBps: 8_000_000, burstBits: 1_000_000 } });
    // and a live bandwidth update rewrites the row in a form that reads back the same way
    expect(s.setAllocationBandwidth({ containerId: 'old-vpr', ifName: 'eth0' }, undefined)).toBe(true);
    expect(s.get({ containerId: 'old-vpr', ifName: 'eth0' })?.allocation).toEqual({
      mode: 'veth-policy-routing', ip: '192.168.0.11', subnet: '192.168.0.0/24', mtu: 1450, eni: { link: 'eth1', ifindex: 3, gateway: '192.168.0.253', table: 1003 },
    });
    s.close();
  });

  it('a row the union cannot explain is store corruption, named with the field (veth-policy-routing without its ENI)', () => {
    const dir = tempDir();
    const [, vpr] = PRE_UNION_ROWS;
    insert(dir, [{ ...vpr, allocation: '{"mode":"veth-policy-routing","ip":"192.168.0.11","subnet":"192.168.0.0/24","mtu":1450}' }]);
    const s = LeaseStore.open(dir);
    expect(() => s.get({ containerId: 'old-vpr', ifName: 'eth0' })).toThrow(InternalError);
    expect(() => s.get({ containerId: 'old-vpr', ifName: 'eth0' })).toThrow(/lease old-vpr\/eth0: malformed allocation: .*allocation\.eni/u);
    s.close();
  });
});
