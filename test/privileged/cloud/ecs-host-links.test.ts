/**
 * The emulator's host side: attaching an ENI makes a host link with the ENI's MAC appear (a veth whose peer sits on
 * the "vSwitch" netns bridge holding the gateway), traffic flows from that link to the gateway, and detach removes it.
 */
import { AliyunEcsClient } from '../../../src/cloud/aliyun/ecs-client.js';
import { DEFAULT_BACKOFFS, type Backoff, type BackoffKey } from '../../../src/cloud/aliyun/backoff.js';
import { createCredentialProvider } from '../../../src/cloud/aliyun/credentials.js';
import { createMetadataClient } from '../../../src/cloud/aliyun/metadata.js';
import { Redactor } from '../../../src/cloud/aliyun/redact.js';
import { createSdkTransport } from '../../../src/cloud/aliyun/sdk.js';
import { realClock } from '../../../src/cloud/aliyun/clock.js';
import { EcsEmulator, netnsHostLinks } from '../../ecs-emulator/index.js';
import { sh, shTry } from '../../helpers/exec.js';
import { rand } from '../../helpers/names.js';
import { describePrivileged } from '../../helpers/privilege.js';

const FAST = Object.fromEntries(Object.entries(DEFAULT_BACKOFFS).map(([k, b]) => [k, { ...b, initialDelayMs: 0, durationMs: b.durationMs / 50 }])) as Record<BackoffKey, Backoff>;

describePrivileged('ECS emulator host links')('ECS emulator host links (privileged)', () => {
  it('attach → a host link with the ENI MAC reaching the vSwitch gateway; detach → gone', async () => {
    const emu = await EcsEmulator.start();
    const links = netnsHostLinks(`ae${rand(4)}`);
    emu.state.hook = links;
    try {
      const redactor = new Redactor();
      const metadata = createMetadataClient({ endpoint: emu.metadata.url });
      const client = new AliyunEcsClient({
        transport: createSdkTransport({ regionId: emu.state.regionId, endpoint: emu.api.endpoint, protocol: 'http' }),
        credentials: createCredentialProvider({ accessKey: emu.credentials.accessKeyId, accessSecret: emu.credentials.accessKeySecret }, redactor, realClock),
        metadata,
        redactor,
        regionId: emu.state.regionId,
        backoff: FAST,
      });
      const eni = await client.createEni({ vSwitchId: 'vsw-node0000000000000001', securityGroupIds: ['sg-1'], ipCount: 1 });
      const att = await client.attachEni(eni.id);
      const rows = JSON.parse(sh('ip', ['-j', 'link', 'show'])) as { ifname: string; address: string }[];
      const link = rows.find((r) => r.address === eni.mac);
      expect(link?.ifname).toBe(links.linkName(eni.id));
      // configure the link as a dataplane would, in a pod netns, and reach the gateway
      const pod = `ae${rand(4)}pod`;
      sh('ip', ['netns', 'add', pod]);
      try {
        sh('ip', ['link', 'set', link!.ifname, 'netns', pod, 'name', 'eth0']);
        sh('ip', ['-n', pod, 'addr', 'add', `${att.primaryIp}/24`, 'dev', 'eth0']);
        sh('ip', ['-n', pod, 'link', 'set', 'eth0', 'up']);
        expect(shTry('ip', ['netns', 'exec', pod, 'ping', '-c', '1', '-W', '2', att.gateway]).code).toBe(0);
        await client.detachEni(eni.id);
        expect(shTry('ip', ['-n', pod, 'link', 'show', 'eth0']).code).not.toBe(0);
      } finally {
        shTry('ip', ['netns', 'del', pod]);
      }
      expect(emu.state.hookErrors).toEqual([]);
      await client.deleteEni(eni.id);
    } finally {
      await links.cleanup();
      await emu.close();
    }
  });
});
