/** Composition root of the node daemon: `terway-hub daemon --config FILE [flags]`. Flags override the file. */
import { parseArgs } from 'node:util';
import { loadDaemonConfig } from '../config/load.js';
import { Daemon } from '../daemon/daemon.js';
import { errorMessage } from '../lib/errors.js';
import { createLogger, parseLogLevel, type Logger } from '../lib/log.js';

export const DAEMON_USAGE = `usage: terway-hub daemon [--config FILE] [--mode vpc|veth-policy-routing] [--socket PATH]
                        [--state-dir DIR] [--http-listen ADDR] [--cni-conf-dir DIR] [--log-level LEVEL]`;

export async function runDaemon(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', short: 'c' },
      mode: { type: 'string' },
      socket: { type: 'string' },
      'state-dir': { type: 'string' },
      'http-listen': { type: 'string' },
      'cni-conf-dir': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(`${DAEMON_USAGE}\n`);
    return 0;
  }
  const cfg = await loadDaemonConfig(values.config, {
    mode: values.mode,
    socket: values.socket,
    stateDir: values['state-dir'],
    httpListen: values['http-listen'],
    cniConfDir: values['cni-conf-dir'],
    logLevel: values['log-level'],
  });
  const log = createLogger(process.stderr, parseLogLevel(cfg.logLevel), { component: 'daemon' });
  const daemon = new Daemon(cfg, { log });
  await daemon.start();
  return waitForSignal(daemon, log);
}

function waitForSignal(daemon: Daemon, log: Logger): Promise<number> {
  return new Promise((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      log.info('signal received, stopping', { signal: sig });
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      daemon
        .stop()
        .then(() => { resolve(0); })
        .catch((e: unknown) => {
          log.error('stop failed', { err: errorMessage(e) });
          resolve(1);
        });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
