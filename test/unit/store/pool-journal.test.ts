/** The pool's durable state in the daemon's database: ENIs and in-flight operations survive a reopen; corruption is named. */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Cidr, IpAddr, MacAddr } from '../../../src/lib/brand.js';
import { LEASES_DB, LeaseStore } from '../../../src/store/store.js';
import { tempDir } from '../../helpers/tmp.js';

const ENI = { id: 'eni-1', mac: '02:00:00:00:00:01' as MacAddr, vSwitchId: 'vsw-a', cidr: '192.168.0.0/24' as Cidr, gateway: '192.168.0.253' as IpAddr, primaryIp: '192.168.0.10' as IpAddr, ips: ['192.168.0.10', '192.168.0.11'] as IpAddr[] };

describe('SqlitePoolJournal', () => {
  it('ENIs and pending operations survive a reopen; ended operations are gone', () => {
    const dir = tempDir();
    const s = LeaseStore.open(dir);
    s.pool.saveEnis([ENI]);
    s.pool.begin({ id: 'op-1', kind: 'create-eni', vSwitchId: 'vsw-a', count: 3, token: 'tok-1', startedAt: 10 });
    s.pool.begin({ id: 'op-2', kind: 'unassign', eniId: 'eni-1', ips: ['192.168.0.11' as IpAddr], startedAt: 11 });
    s.pool.end('op-2');
    s.close();
    const again = LeaseStore.open(dir);
    expect(again.pool.loadEnis()).toEqual([ENI]);
    expect(again.pool.pending()).toEqual([{ id: 'op-1', kind: 'create-eni', vSwitchId: 'vsw-a', count: 3, token: 'tok-1', startedAt: 10 }]);
    again.pool.saveEnis([]);
    expect(again.pool.loadEnis()).toEqual([]);
    again.close();
  });

  it('a corrupt row is an InternalError naming it', () => {
    const dir = tempDir();
    LeaseStore.open(dir).close();
    const db = new Database(join(dir, LEASES_DB));
    db.prepare("INSERT INTO pool_enis (id, resource) VALUES ('eni-x', '{\"id\":\"eni-x\",\"mac\":\"zz\"}')").run();
    db.close();
    const s = LeaseStore.open(dir);
    expect(() => s.pool.loadEnis()).toThrow(/pool row eni-x: eni\.mac/u);
    s.close();
  });
});
