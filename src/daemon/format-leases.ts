/** A plain-text table of leases for `terway-hub leases`. */
import type { Lease } from '../store/lease.js';

function eniColumn(a: Lease['allocation']): string {
  if (a.mode === 'eni') return `${a.eni.id}(${a.eni.mac})`;
  return 'eni' in a ? `${a.eni.link}(table ${String(a.eni.table)})` : '-';
}

export function formatLeases(leases: readonly Lease[]): string {
  const header = ['CONTAINER', 'IFNAME', 'POD', 'MODE', 'IP', 'ENI', 'CREATED'];
  const rows = leases.map((l) => [
    l.containerId.slice(0, 12),
    l.ifName,
    l.podName === '' ? '-' : `${l.podNamespace}/${l.podName}`,
    l.allocation.mode,
    `${l.allocation.ip}/${l.allocation.subnet.split('/')[1] ?? ''}`,
    eniColumn(l.allocation),
    l.createdAt,
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}
