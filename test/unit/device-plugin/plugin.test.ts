import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EniDevicePlugin } from '../../../src/device-plugin/plugin.js';
import { ConfigError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/log.js';
import { FakeKubelet, PluginClient } from './fake-kubelet.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { tempDir } from '../../helpers/tmp.js';

describe('EniDevicePlugin against a fake kubelet', () => {
  let dir: string;
  let kubelet: FakeKubelet;
  let plugin: EniDevicePlugin;
  const clients: PluginClient[] = [];
  const connect = (): PluginClient => {
    const c = new PluginClient(plugin.socketPath);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    dir = tempDir('hub-dp-');
    kubelet = new FakeKubelet(dir);
    await kubelet.start();
    plugin = new EniDevicePlugin({ capacity: 3, dir, log: silentLogger, checkIntervalMs: 500 });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await plugin.stop();
    await kubelet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers v1beta1 aliyun/eni with its endpoint, lists 3 healthy devices, allocates', async () => {
    await plugin.start();
    await kubelet.waitForRegistrations(1);
    expect(kubelet.registrations[0]).toMatchObject({ version: 'v1beta1', endpoint: 'terway-hub-eni.sock', resource_name: 'aliyun/eni' });
    expect(existsSync(join(dir, 'terway-hub-eni.sock'))).toBe(true);

    const c = connect();
    expect(await c.options()).toEqual({ pre_start_required: false, get_preferred_allocation_available: true });
    const law = c.listAndWatch();
    const first = await law.next(1);
    expect(first.devices.map((d) => [d.ID, d.health])).toEqual([
      ['eni-0', 'Healthy'],
      ['eni-1', 'Healthy'],
      ['eni-2', 'Healthy'],
    ]);

    const res = await c.allocate([['eni-0'], ['eni-1', 'eni-2']]);
    expect(res.container_responses).toHaveLength(2);
    await expect(c.allocate([['eni-9']])).rejects.toMatchObject({ code: 3 });

    const pref = await c.unary<{ container_responses: { deviceIDs: string[] }[] }>('GetPreferredAllocation', {
      container_requests: [{ available_deviceIDs: ['eni-0', 'eni-1', 'eni-2'], must_include_deviceIDs: ['eni-2'], allocation_size: 2 }],
    });
    expect(pref.container_responses[0]?.deviceIDs).toEqual(['eni-2', 'eni-0']);

    plugin.setCapacity(5); // resent on change
    expect((await law.next(2)).devices).toHaveLength(5);
    law.cancel();
  });

  it('re-registers after a kubelet restart (kubelet.sock and the plugin socket removed)', async () => {
    await plugin.start();
    await kubelet.waitForRegistrations(1);
    await kubelet.stop();
    await unlink(plugin.socketPath); // kubelet removes plugin sockets when it starts
    await sleep(200);
    await kubelet.start();
    const t0 = Date.now();
    await kubelet.waitForRegistrations(2, 4000);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(kubelet.registrations[1]).toMatchObject({ version: 'v1beta1', resource_name: 'aliyun/eni', endpoint: 'terway-hub-eni.sock' });
    expect(existsSync(plugin.socketPath)).toBe(true);
    const law = connect().listAndWatch();
    expect((await law.next(1)).devices).toHaveLength(3);
    law.cancel();
  });

  it('starts before kubelet and registers once kubelet.sock appears', async () => {
    await kubelet.stop();
    await plugin.start();
    expect(plugin.registered).toBe(false);
    await kubelet.start();
    await kubelet.waitForRegistrations(1, 3000);
    await waitFor(() => plugin.registered, { timeoutMs: 3000, stepMs: 20 });
    expect(plugin.registrations).toBe(1);
  });

  it('starts even when the device-plugin directory does not exist yet, and serves + registers once it does', async () => {
    await kubelet.stop();
    const later = join(dir, 'not-yet');
    const early = new EniDevicePlugin({ capacity: 2, dir: later, log: silentLogger, checkIntervalMs: 200 });
    try {
      await early.start(); // must not throw: kubelet may not be installed yet
      expect(early.registered).toBe(false);
      mkdirSync(later);
      const lateKubelet = new FakeKubelet(later);
      await lateKubelet.start();
      try {
        await lateKubelet.waitForRegistrations(1, 5000);
        await waitFor(() => early.registered, { timeoutMs: 3000, stepMs: 20 });
        expect(existsSync(early.socketPath)).toBe(true);
      } finally {
        await lateKubelet.stop();
      }
    } finally {
      await early.stop();
    }
  });

  it('without the directory watch, the periodic check re-registers after a kubelet restart', async () => {
    const polling = new EniDevicePlugin({ capacity: 2, dir, log: silentLogger, checkIntervalMs: 200, watch: false, socketName: 'poll.sock' });
    try {
      await polling.start();
      await kubelet.waitForRegistrations(1);
      await kubelet.stop();
      await unlink(polling.socketPath);
      await kubelet.start();
      await kubelet.waitForRegistrations(2, 3000);
      expect(kubelet.registrations[1]?.endpoint).toBe('poll.sock');
      await waitFor(() => existsSync(polling.socketPath), { timeoutMs: 3000, stepMs: 20 });
    } finally {
      await polling.stop();
    }
  });

  it('stop() removes its socket; bad options are ConfigErrors', async () => {
    await plugin.start();
    await kubelet.waitForRegistrations(1);
    await plugin.stop();
    expect(existsSync(join(dir, 'terway-hub-eni.sock'))).toBe(false);
    expect(() => new EniDevicePlugin({ capacity: -1, dir, log: silentLogger })).toThrow(ConfigError);
    expect(() => new EniDevicePlugin({ capacity: 1, dir, log: silentLogger, socketName: 'kubelet.sock' })).toThrow(ConfigError);
  });
});
