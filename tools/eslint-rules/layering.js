/**
 * The layering rules of src/**, as flat-config blocks (eslint.config.js spreads them; test/unit/lint runs them on
 * fixtures and on the real tree). ESLint keeps only the last matching block's options for a rule, so every
 * no-restricted-imports block below carries the full set for the files it matches.
 *
 * - no import cycles among src/** modules (type-only and dynamic imports count: see ./no-import-cycles.js);
 * - nothing outside src/main imports src/daemon (the daemon's own files import each other): other folders declare
 *   the narrow interface they need and src/main wires the daemon into it;
 * - processes start only through src/lib/exec.ts (argv only);
 * - the plugin's files (and the rpc client it uses) import no daemon, Kubernetes, cloud, policy, template or SDK
 *   code; planners (src/modes) import no node built-in, daemon, plugin, executor or exec code.
 */
import { terwayPlugin } from './index.js';

const childProcess = { name: 'node:child_process', message: 'Start processes only through src/lib/exec.ts (argv only).' };

const daemonOnlyFromMain = {
  group: ['**/daemon/**'],
  message: 'Only src/main may import src/daemon: declare the narrow interface you need in your own folder and let src/main wire the daemon into it.',
};

const pluginMayNotImport = ['**/daemon/**', '**/k8s/**', '**/cloud/**', '**/policy/**', '**/templates/**', '**/store/**', '**/gc/**', '**/device-plugin/**', '@grpc/*', '@kubernetes/*', '@alicloud/*', 'better-sqlite3', 'handlebars', 'prom-client'];

export const layering = [
  {
    files: ['src/**/*.ts'],
    ignores: ['src/lib/exec.ts', 'src/main/**', 'src/daemon/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [childProcess], patterns: [daemonOnlyFromMain] }] },
  },
  {
    files: ['src/main/**/*.ts', 'src/daemon/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [childProcess] }] },
  },
  {
    files: ['src/cni/**/*.ts', 'src/main/cni.ts', 'src/rpc/client.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [childProcess], patterns: pluginMayNotImport }] },
  },
  {
    files: ['src/modes/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['node:*', '**/daemon/**', '**/cni/**', '**/netlink/executor*', '**/lib/exec*'] }] },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { terway: terwayPlugin },
    rules: { 'terway/no-import-cycles': ['error', { root: 'src' }] },
  },
];
