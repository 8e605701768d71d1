/**
 * Pure: matrix results as truth tables, one per port, like the upstream netpol e2e suite prints them: rows are
 * sources, columns destinations; `.` allowed, `X` denied, `#` the pod itself.
 */
import { matrixKey, type PortProto } from '../model/matrix.js';

export function portLabel(p: PortProto): string {
  return `${String(p.port)}/${p.protocol}`;
}

export function formatMatrix(pods: readonly string[], ports: readonly PortProto[], result: Readonly<Record<string, boolean>>): string {
  if (pods.length === 0) return 'no pods in the model\n';
  const width = Math.max(...pods.map((p) => p.length));
  const out: string[] = [];
  for (const p of ports) {
    const denied = pods.flatMap((s) => pods.filter((d) => d !== s && result[matrixKey(s, d, p)] === false)).length;
    out.push(`${portLabel(p)}: ${String(denied)} of ${String(pods.length * (pods.length - 1))} pairs denied (rows: from, columns: to; . allowed, X denied, # self)`);
    out.push(`${' '.repeat(width)}  ${pods.map((d) => d.padEnd(width)).join(' ')}`.trimEnd());
    for (const s of pods) {
      const cells = pods.map((d) => (s === d ? '#' : result[matrixKey(s, d, p)] === true ? '.' : 'X').padEnd(width));
      out.push(`${s.padEnd(width)}  ${cells.join(' ')}`.trimEnd());
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
