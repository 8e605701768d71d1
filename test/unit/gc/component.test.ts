import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import type { DaemonContext } from '../../../src/daemon/daemon.js';
import { gcComponent, netnsPresent } from '../../../src/gc/component.js';
import { HubService } from '../../../src/daemon/service.js';
import { LeaseStore } from '../../../src/store/store.js';
import type { Command, CommandRunner } from '../../../src/lib/exec.js';
import { silentLogger } from '../../../src/lib/log.js';
import { FakeProvider, req } from '../daemon/helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';
import { nodeAdapters } from '../../../src/main/adapters.js';

describe('gcComponent (composed from the daemon context)', () => {
  it('observes the host with ip -j, releases a lease whose netns is gone through the service, tears down its host side', async () => {
    const dir = tempDir('hub-gcc-');
    const store = LeaseStore.open(dir);
    try {
      const service = new HubService({ store, provider: new FakeProvider(), mtu: 1500 });
      await service.allocate(req('c1', { netns: join(dir, 'c1') })); // its directory is there, the netns is not
      const commands: Command[] = [];
      const runner: CommandRunner = {
        run: (cmd) => {
          commands.push(cmd);
          return Promise.resolve({ stdout: cmd.args.includes('-j') ? '[]' : '', stderr: '', exitCode: 0 });
        },
      };
      const ctx: DaemonContext = { config: parseDaemonConfig({ vpc: { podCIDR: '10.0.0.0/24' } }), service, store, log: silentLogger };
      const gc = gcComponent(ctx, { ...nodeAdapters({ runner }), leaseGraceMs: 0 });
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

  it('keeps a lease whose netns it cannot see: directory not visible to the daemon (e.g. /proc/<pid>/ns/net of another PID namespace)', async () => {
    const dir = tempDir('hub-gcc-');
    const store = LeaseStore.open(dir);
    try {
      const service = new HubService({ store, provider: new FakeProvider(), mtu: 1500 });
      await service.allocate(req('c1', { netns: '/proc/999999999/ns/net' }));
      await service.allocate(req('c2', { netns: join(dir, 'no-such-dir', 'c2') }));
      const runner: CommandRunner = { run: (cmd) => Promise.resolve({ stdout: cmd.args.includes('-j') ? '[]' : '', stderr: '', exitCode: 0 }) };
      const ctx: DaemonContext = { config: parseDaemonConfig({ vpc: { podCIDR: '10.0.0.0/24' } }), service, store, log: silentLogger };
      const r = await gcComponent(ctx, { ...nodeAdapters({ runner }), leaseGraceMs: 0 }).runOnce();
      expect(r.released).toEqual([]);
      expect(store.count()).toBe(2);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('netnsPresent: true when present, false only for ENOENT in a visible directory, rejects when undecidable', async () => {
    const dir = tempDir('hub-gcc-');
    try {
      await expect(netnsPresent(dir)).resolves.toBe(true);
      await expect(netnsPresent(join(dir, 'gone'))).resolves.toBe(false);
      await expect(netnsPresent(join(dir, 'missing-dir', 'ns'))).rejects.toThrow(/not visible/u);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
