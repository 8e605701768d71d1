/**
 * What loading the daemon/CLI entry (src/main/cli.ts) loads at once: every `terway-hub status`, `policy explain` and
 * daemon start pays for it. The ECS SDK (≈ 1 s of loading here, a minute in the TCG VM of test/vm) and the Kubernetes
 * client are imported only when a config selects them (dynamic `import()`), never on the static graph.
 */
import { join, resolve } from 'node:path';
import { reachableFrom } from '../../../tools/import-graph.js';

const ROOT = resolve(process.cwd());
const LAZY = ['@alicloud/ecs20140526', '@alicloud/openapi-core', '@kubernetes/client-node'];

function eagerExternals(entry: string): string[] {
  const r = reachableFrom(join(ROOT, entry), { staticOnly: true });
  return [...r.external.keys()].filter((name) => LAZY.includes(name)).sort();
}

describe('CLI start-up', () => {
  it('src/main/cli.ts loads neither the ECS SDK nor the Kubernetes client at start', () => {
    expect(eagerExternals('src/main/cli.ts')).toEqual([]);
  });

  it('the check can fail: the Aliyun client factory loads the SDK at once, and the dynamic imports are followed otherwise', () => {
    expect(eagerExternals('src/cloud/aliyun/create.ts')).toContain('@alicloud/ecs20140526');
    const all = reachableFrom(join(ROOT, 'src/main/cli.ts'), { runtimeOnly: true });
    expect([...all.external.keys()]).toEqual(expect.arrayContaining(['@alicloud/ecs20140526', '@kubernetes/client-node']));
  });
});
