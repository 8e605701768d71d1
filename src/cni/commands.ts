/** One invocation of the plugin: env + stdin → stdout/stderr/exit code. I/O only through the injected deps. */
import type { Logger } from '../lib/log.js';
import { clip, quote } from '../lib/text.js';
import { cmdAdd } from './add.js';
import { parseCniRequest, versionOfStdin, type CniRequest, type Env } from './args.js';
import { cmdCheck } from './check.js';
import type { NetConf } from './config.js';
import { cmdDel } from './del.js';
import { rpcOf, type CniDeps } from './deps.js';
import { CniError, toCniError } from './errors.js';
import { buildErrorResult, buildVersionResult } from './result.js';
import { CniCode, SUPPORTED_VERSIONS } from './spec.js';
import { cmdGc, cmdStatus } from './status-gc.js';

export const ABOUT = 'terway-hub CNI plugin';

export interface Invocation {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: 0 | 1;
}

type ConfigRequest = Exclude<CniRequest, { command: 'VERSION' }>;

function verbLogger(req: ConfigRequest, log: Logger): Logger {
  if (!('env' in req)) return log.child({ verb: req.command });
  return log.child({ verb: req.command, containerId: req.env.containerId, netns: req.env.netns ?? '', ifName: req.env.ifName });
}

/** ADD/CHECK: a missing or non-namespace CNI_NETNS is code 4 before any RPC (DEL tolerates both: no check). */
async function refuseUnusableNetns(netns: string, deps: CniDeps): Promise<void> {
  const problem = await deps.netnsProblem(netns);
  if (problem !== undefined) throw new CniError(CniCode.INVALID_ENV, problem, quote(netns));
}

/** Runs a verb; resolves with the JSON to print (undefined: print nothing), throws on failure. */
export async function runVerb(req: ConfigRequest, deps: CniDeps): Promise<object | undefined> {
  const log = verbLogger(req, deps.log);
  const rpc = rpcOf(deps, req.config);
  const signal = AbortSignal.timeout(req.config.timeoutMs);
  log.debug('start');
  switch (req.command) {
    case 'ADD':
      await refuseUnusableNetns(req.env.netns, deps);
      return cmdAdd(req.env, req.config, deps, rpc, log, signal);
    case 'DEL':
      await cmdDel(req.env, req.config, deps, rpc, log, signal);
      return undefined;
    case 'CHECK':
      await refuseUnusableNetns(req.env.netns, deps);
      await cmdCheck(req.env, req.config, deps, rpc, log, signal);
      return undefined;
    case 'STATUS':
      await cmdStatus(rpc, log);
      return undefined;
    case 'GC':
      await cmdGc(req.config, rpc, log);
      return undefined;
  }
}

function line(value: object): string {
  return `${JSON.stringify(value)}\n`;
}

export async function invoke(env: Env, stdin: string, makeDeps: (config: NetConf) => CniDeps): Promise<Invocation> {
  let config: NetConf | undefined;
  let deps: CniDeps | undefined;
  try {
    const req = parseCniRequest(env, stdin);
    if (req.command === 'about') {
      return { stdout: '', stderr: `${ABOUT}\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\n`, exitCode: 0 };
    }
    if (req.command === 'VERSION') return { stdout: line(buildVersionResult(req.cniVersion)), stderr: '', exitCode: 0 };
    config = req.config;
    deps = makeDeps(config);
    const result = await runVerb(req, deps);
    return { stdout: result === undefined ? '' : line(result), stderr: '', exitCode: 0 };
  } catch (err) {
    const cniErr = toCniError(err);
    deps?.log.error('failed', { verb: clip(env.CNI_COMMAND ?? ''), containerId: clip(env.CNI_CONTAINERID ?? ''), code: cniErr.code, err });
    return { stdout: line(buildErrorResult(config?.cniVersion ?? versionOfStdin(stdin), cniErr)), stderr: '', exitCode: 1 };
  }
}
