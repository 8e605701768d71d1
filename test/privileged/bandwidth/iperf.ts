/** iperf3 between two network namespaces (server in one, client in the other), JSON output. */
import { spawn } from 'node:child_process';
import { sleep } from '../../helpers/wait.js';

let nextPort = 15200 + Math.floor(Math.random() * 2000);

/**
 * Measures bits/s received for `seconds`: server in `serverNs` on `serverIp`, client in `clientNs`. `reverse`
 * makes the server send (client receives). Returns the receiver's bits/s.
 */
export async function iperf(serverNs: string, clientNs: string, serverIp: string, seconds: number, reverse = false): Promise<number> {
  const port = String(nextPort++);
  const server = spawn('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-B', serverIp, '-p', port], { stdio: 'ignore' });
  try {
    for (let attempt = 0; ; attempt++) {
      await sleep(150);
      const args = ['netns', 'exec', clientNs, 'iperf3', '-c', serverIp, '-p', port, '-t', String(seconds), '-J', ...(reverse ? ['-R'] : [])];
      const res = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const c = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
        const chunks: Buffer[] = [];
        c.stdout.on('data', (b: Buffer) => chunks.push(b));
        c.on('close', (code) => { resolve({ code, out: Buffer.concat(chunks).toString() }); });
      });
      const json = JSON.parse(res.out || '{}') as { error?: string; end?: { sum_received?: { bits_per_second?: number } } };
      const bps = json.end?.sum_received?.bits_per_second;
      if (bps !== undefined && json.error === undefined) return bps;
      if (attempt >= 10) throw new Error(`iperf3 failed: ${json.error ?? res.out.slice(0, 300)}`);
    }
  } finally {
    server.kill();
  }
}
