import { rmSync } from 'node:fs';
import { parseDaemonConfig } from '../../../../src/config/daemon-config.js';
import type { DaemonContext } from '../../../../src/daemon/daemon.js';
import { gcComponent } from '../../../../src/daemon/gc/component.js';
import { HubService } from '../../../../src/daemon/service.js';
import { LeaseStore } from '../../../../src/daemon/store.js';
import type { Command, CommandRunner } from '../../../../src/lib/exec.js';
import { silentLogger } from '../../../../src/lib/log.js';
import { FakeProvider, req, tempDir } from '../helpers/fixtures.js';

describe('gcComponent (composed from the daemon context)', () => {
  it('observes the host with ip -j, releases a lease whose netns is gone through the service, tears down its host side', async () => {
    const dir = tempDir('hub-gcc-');
    const store = LeaseStore.open(dir);
    try {
      const service = new HubService({ store, provider: new FakeProvider(), mtu: 1500 });
      await service.allocate(req('c1', { netns: '/nonexistent/netns/c1' }));
      const commands: Command[] = [];
      const runner: CommandRunner = {
        run: (cmd) => {
          commands.push(cmd);
          return Promise.resolve({ stdout: cmd.args.includes('-j') ? '[]' : '', stderr: '', exitCode: 0 });
        },
      };
      const ctx: DaemonContext = { config: parseDaemonConfig({ vpc: { podCIDR: '10.0.0.0/24' } }), service, store, log: silentLogger };
      const gc = gcComponent(ctx, { runner, leaseGraceMs: 0 });
      expect(gc.name).toBe('gc');
      const r = await gc.runOnce();
      expect(r.released).toEqual([{ containerId: 'c1', ifName: 'eth0' }]);
      expect(store.count()).toBe(0);
      const batch = commands.find((c) => c.stdin !== undefined && c.stdin.includes('rule del'));
      expect(batch?.stdin).toMatch(/rule del to 10\.0\.0\.10\/32 lookup main priority 512/u);
      expect(commands.some((c) => c.args.join(' ') === '-j -4 rule show')).toBe(true);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
