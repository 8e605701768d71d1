#!/usr/bin/env node
/** `terway-hub` CLI: daemon | status | why | leases | policy | node-setup. */
import { parseArgs } from 'node:util';
import { loadDaemonConfig } from '../config/load.js';
import { LeaseStore } from '../store/store.js';
import { errorMessage } from '../lib/errors.js';
import { DEFAULT_SOCKET, type StatusReply } from '../rpc/protocol.js';
import { DAEMON_USAGE, runDaemon } from './daemon.js';
import { askDaemon, DaemonCallError } from './daemon-call.js';
import { formatLeases } from '../daemon/format-leases.js';
import { POLICY_USAGE } from '../policy/cli/args.js';
import { processPolicyIo, runPolicy } from './policy-cli.js';
import { WHY_USAGE, formatPools, runWhy } from './why-cli.js';
import { INSTALL_CNI_USAGE, installCni } from './install-cni.js';
import { NODE_SETUP_USAGE, runNodeSetup } from './node-setup-cli.js';
import { RENDER_USAGE, processRenderIo, runRender } from './cmd/render.js';
import { POOL_USAGE, runPool } from './cmd/pool.js';
import { MAPPING_USAGE, runMapping } from './cmd/mapping.js';

const USAGE = `usage: terway-hub <command> [flags]
commands:
  daemon   run the node daemon
           ${DAEMON_USAGE.replace(/\n/gu, '\n           ')}
  status   [--socket PATH] [--json]           ask the daemon for its status and pool levels (exit 0 when ready)
  ${WHY_USAGE}
  leases   [--config FILE | --state-dir DIR] [--json]   list the leases recorded on this node
  policy   explain | matrix | diff | verify: NetworkPolicy verdicts from files or the daemon's live model
           ${POLICY_USAGE.split('\n').slice(1).join('\n           ')}
  install-cni ${INSTALL_CNI_USAGE}
  node-setup ${NODE_SETUP_USAGE}
  ${RENDER_USAGE}
  ${POOL_USAGE}
  ${MAPPING_USAGE}`;

async function status(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { socket: { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' } } });
  const st = await askDaemon(values.socket ?? DEFAULT_SOCKET, Number(values.timeout ?? '5000'), (c) => c.status({}));
  process.stdout.write(values.json === true ? `${JSON.stringify(st)}\n` : formatStatus(st));
  return st.ready ? 0 : 1;
}

function formatStatus(st: StatusReply): string {
  const head = `ready=${String(st.ready)} mode=${st.mode}${st.reason ? ` reason=${st.reason}` : ''}`;
  const p = st.policy;
  const lines = [
    p === undefined ? head : `${head} policy=${p.backend} policy-state=${p.state} policy-restarts=${String(p.restarts)}${p.chainEntryActive ? ' policy-cni=active' : ''}`,
    ...(p !== undefined ? [`  policy: ${p.why}`, ...p.warnings.map((w) => `  warning: ${w}`)] : []),
    ...(p?.rules !== undefined ? [`  policy-rules: ${String(p.rules)}${p.lastApply !== undefined ? ` last-apply=${p.lastApply}` : ''}`] : []),
    ...(p?.lastError !== undefined ? [`  policy-error: ${p.lastError}`] : []),
    ...(st.configError !== undefined ? [`  config-error: ${st.configError}`] : []),
    ...formatPools(st.pools),
    ...(st.nodeSetup !== undefined ? [`  node-setup: ${st.nodeSetup}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

async function leases(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { config: { type: 'string' }, 'state-dir': { type: 'string' }, json: { type: 'boolean' } } });
  const stateDir = values['state-dir'] ?? (await loadDaemonConfig(values.config, {}).catch(() => undefined))?.stateDir ?? '/var/lib/terway-hub';
  const store = LeaseStore.open(stateDir, { readonly: true });
  try {
    const list = store.list();
    process.stdout.write(values.json === true ? `${JSON.stringify(list, null, 2)}\n` : formatLeases(list));
    return 0;
  } finally {
    store.close();
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'daemon':
      return runDaemon(rest);
    case 'status':
      return status(rest);
    case 'why':
      return runWhy(rest);
    case 'leases':
      return leases(rest);
    case 'policy':
      return runPolicy(rest, processPolicyIo);
    case 'install-cni':
      return installCni(rest, (line) => process.stdout.write(`${line}\n`));
    case 'node-setup':
      return runNodeSetup(rest);
    case 'render':
      return runRender(rest, processRenderIo);
    case 'pool':
      return runPool(rest);
    case 'mapping':
      return runMapping(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command ${JSON.stringify(cmd)}\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((e: unknown) => {
    const detail = errorMessage(e);
    process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'error', msg: 'terway-hub failed', err: detail })}\n`);
    process.exitCode = e instanceof DaemonCallError ? 1 : 2;
  });
