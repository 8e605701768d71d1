/**
 * Crash safety at start (issue 9): every cloud operation the journal still holds was cut short by a crash. Create
 * and assign are completed by making the same call with the same client token (the cloud answers with what the
 * first call made, or makes it now: never twice); unassign and delete are made again (NotFound counts as success).
 * Then the node's ENIs as the cloud reports them are compared with the leases and with what the pool last saved:
 * a leased IP no ENI holds any more is invalid (its pod must be re-created), an IP on our ENIs the pool never
 * saw is adopted as idle and reported.
 */
import type { IpAddr } from '../lib/brand.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { EniResource, PoolJournal, ResourceFactory } from './types.js';

export interface RecoveryReport {
  /** `create-eni op-3 completed (eni-7)`, `delete-eni op-4 redone`, … */
  readonly completed: readonly string[];
  readonly failed: readonly string[];
  /** Leased IPs on no ENI of the node. */
  readonly invalidLeases: readonly IpAddr[];
  /** IPs on the node's ENIs the pool had not saved and no lease holds (adopted as idle). */
  readonly adopted: readonly IpAddr[];
  readonly enis: readonly EniResource[];
}

export async function recoverPool(factory: ResourceFactory, journal: PoolJournal, leased: ReadonlySet<string>, log: Logger): Promise<RecoveryReport> {
  const completed: string[] = [];
  const failed: string[] = [];
  for (const op of journal.pending()) {
    const name = `${op.kind} ${op.id}`;
    try {
      switch (op.kind) {
        case 'create-eni': {
          const eni = await factory.createEni(op.vSwitchId ?? '', op.count ?? 1, op.token ?? op.id);
          completed.push(`${name} completed (${eni.id})`);
          break;
        }
        case 'assign': {
          const ips = await factory.assignIps(op.eniId ?? '', op.count ?? 1, op.token ?? op.id);
          completed.push(`${name} completed (${ips.join(', ')})`);
          break;
        }
        case 'unassign':
          await factory.unassignIps(op.eniId ?? '', (op.ips ?? []).filter((ip) => !leased.has(ip)));
          completed.push(`${name} redone`);
          break;
        case 'delete-eni':
          await factory.deleteEni(op.eniId ?? '');
          completed.push(`${name} redone`);
          break;
      }
    } catch (e) {
      failed.push(`${name}: ${errorMessage(e)}`);
    }
    journal.end(op.id);
  }
  const enis = await factory.listEnis();
  const onEnis = new Set(enis.flatMap((e) => e.ips));
  const saved = new Set(journal.loadEnis().flatMap((e) => e.ips));
  const invalidLeases = [...leased].filter((ip) => !onEnis.has(ip as IpAddr)) as IpAddr[];
  const adopted = [...onEnis].filter((ip) => !saved.has(ip) && !leased.has(ip));
  if (completed.length + failed.length + invalidLeases.length + adopted.length > 0) {
    log.warn('pool recovered after a restart', { completed, failed, invalidLeases, adopted });
  }
  return { completed, failed, invalidLeases, adopted, enis };
}
