/**
 * The ECS emulator through the real @alicloud/ecs20140526 SDK: both signing styles accepted and verified (a wrong
 * secret, an unknown key, a missing STS token refused with Aliyun's codes), ENI/IP state with instance-type quotas,
 * asynchronous attach seen by the metadata service (token API), ClientToken idempotency, fault injection, counters.
 */
import { EcsEmulator } from '../../ecs-emulator/index.js';
import { Ecs, sdkFor, type EcsSdk } from '../../ecs-emulator/sdk.js';
import { waitFor } from '../../helpers/wait.js';

const REGION = 'cn-hangzhou';
const VSW = 'vsw-node0000000000000001';

interface SdkErr {
  code: string;
  statusCode: number;
  data: { RequestId: string; HostId: string; Code: string; Message: string };
}

async function failure(p: Promise<unknown>): Promise<SdkErr> {
  try {
    await p;
  } catch (e) {
    return e as SdkErr;
  }
  throw new Error('expected the call to fail');
}

const create = (c: EcsSdk, extra: Record<string, unknown> = {}) =>
  c.createNetworkInterface(new Ecs.CreateNetworkInterfaceRequest({ regionId: REGION, vSwitchId: VSW, securityGroupIds: ['sg-1'], ...extra }));

async function md(emu: EcsEmulator, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const r = await fetch(`${emu.metadata.url}/latest/meta-data/${path}`, { headers });
  return { status: r.status, text: await r.text() };
}

describe('ECS emulator through the real SDK', () => {
  let emu: EcsEmulator;
  beforeEach(async () => {
    emu = await EcsEmulator.start();
  });
  afterEach(async () => {
    await emu.close();
  });

  for (const v2 of [false, true]) {
    const style = v2 ? 'v2 RPC (HMAC-SHA1)' : 'ACS3-HMAC-SHA256';
    it(`${style}: signed calls are accepted and recorded with their style`, async () => {
      const r = await create(sdkFor(emu, { v2 }), { secondaryPrivateIpAddressCount: 2 });
      expect(r.body?.networkInterfaceId).toMatch(/^eni-[a-z0-9]{20}$/u);
      expect(r.body?.privateIpSets?.privateIpSet).toHaveLength(3);
      expect(r.body?.macAddress).toMatch(/^00:16:3e(:[0-9a-f]{2}){3}$/u);
      expect(emu.api.calls.at(-1)).toMatchObject({ action: 'CreateNetworkInterface', style: v2 ? 'v2' : 'ACS3-HMAC-SHA256', outcome: 'ok' });
    });

    it(`${style}: a wrong secret is refused with SignatureDoesNotMatch (HTTP 400) and nothing happens`, async () => {
      const e = await failure(create(sdkFor(emu, { v2, secret: 'not-the-secret' })));
      expect(e.code).toBe('SignatureDoesNotMatch');
      expect(e.statusCode).toBe(400);
      expect(e.data).toMatchObject({ Code: 'SignatureDoesNotMatch', HostId: `ecs.${REGION}.aliyuncs.com` });
      expect(e.data.RequestId).toMatch(/^[0-9A-F-]{36}$/u);
      expect(emu.state.enis.size).toBe(1); // the primary ENI only
    });

    it(`${style}: an unknown key → InvalidAccessKeyId.NotFound (404); an STS key without its token → InvalidSecurityToken`, async () => {
      expect((await failure(create(sdkFor(emu, { v2, keyId: 'LTAIunknown' })))).code).toBe('InvalidAccessKeyId.NotFound');
      emu.api.addAccessKey({ id: 'STS.k1', secret: 's3cr3t-value', securityToken: 'tok-123456' });
      expect((await failure(create(sdkFor(emu, { v2, keyId: 'STS.k1', secret: 's3cr3t-value' })))).code).toBe('InvalidSecurityToken.Missing');
      expect((await failure(create(sdkFor(emu, { v2, keyId: 'STS.k1', secret: 's3cr3t-value', securityToken: 'other-token' })))).code).toBe('InvalidSecurityToken.MismatchWithAccessKey');
      await create(sdkFor(emu, { v2, keyId: 'STS.k1', secret: 's3cr3t-value', securityToken: 'tok-123456' }));
    });
  }

  it('a tampered request (parameter changed after signing) is refused in both styles', async () => {
    // re-sign nothing: replay the recorded query with another VSwitchId through plain HTTP
    for (const v2 of [false, true]) {
      const seen: { url: string; headers: Record<string, string> }[] = [];
      const { createServer } = await import('node:http');
      const spy = createServer((req, res) => {
        seen.push({ url: req.url ?? '', headers: req.headers as Record<string, string> });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"RequestId":"x"}');
      });
      await new Promise<void>((r) => spy.listen(0, '127.0.0.1', r));
      const port = (spy.address() as { port: number }).port;
      const real = emu.api.endpoint;
      Object.defineProperty(emu.api, 'endpoint', { value: `127.0.0.1:${String(port)}`, configurable: true });
      await create(sdkFor(emu, { v2 }));
      Object.defineProperty(emu.api, 'endpoint', { value: real, configurable: true });
      spy.close();
      const rec = seen[0]!;
      const url = rec.url.replace(`VSwitchId=${VSW}`, 'VSwitchId=vsw-node0000000000000002');
      const r = await fetch(`http://${real}${url}`, { method: 'POST', headers: { ...rec.headers, host: real } });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { Code: string }).Code).toBe('SignatureDoesNotMatch');
    }
  });

  it('ClientToken: same token and parameters → the same ENI, no second one; other parameters → IdempotentParameterMismatch', async () => {
    const c = sdkFor(emu);
    const a = await create(c, { clientToken: 'tok-a', secondaryPrivateIpAddressCount: 1 });
    const b = await create(c, { clientToken: 'tok-a', secondaryPrivateIpAddressCount: 1 });
    expect(b.body?.networkInterfaceId).toBe(a.body?.networkInterfaceId);
    expect(b.body?.requestId).not.toBe(a.body?.requestId);
    expect([...emu.state.enis.values()].filter((e) => e.type === 'Secondary')).toHaveLength(1);
    expect((await failure(create(c, { clientToken: 'tok-a', secondaryPrivateIpAddressCount: 2 }))).code).toBe('IdempotentParameterMismatch');
  });

  it('attach is asynchronous (Attaching → InUse), the metadata service lists the MAC and addresses after its lag; detach and delete', async () => {
    emu.state.timing.attachDelayMs = 150;
    emu.state.timing.metadataLagMs = 150;
    const c = sdkFor(emu);
    const eni = (await create(c, { secondaryPrivateIpAddressCount: 1 })).body!;
    const id = eni.networkInterfaceId!;
    await c.attachNetworkInterface(new Ecs.AttachNetworkInterfaceRequest({ regionId: REGION, instanceId: emu.node.id, networkInterfaceId: id }));
    const status = async () => (await c.describeNetworkInterfaces(new Ecs.DescribeNetworkInterfacesRequest({ regionId: REGION, networkInterfaceId: [id] }))).body?.networkInterfaceSets?.networkInterfaceSet?.[0];
    expect((await status())?.status).toBe('Attaching');
    await waitFor(async () => (await status())?.status === 'InUse');
    expect((await status())?.attachment?.instanceId).toBe(emu.node.id);
    expect((await md(emu, 'network/interfaces/macs/')).text).not.toContain(eni.macAddress);
    await waitFor(async () => (await md(emu, 'network/interfaces/macs/')).text.includes(`${eni.macAddress!}/`));
    const ips = JSON.parse((await md(emu, `network/interfaces/macs/${eni.macAddress!}/private-ipv4s`)).text) as string[];
    expect(ips.sort()).toEqual(eni.privateIpSets!.privateIpSet!.map((x) => x.privateIpAddress).sort());
    expect((await md(emu, `network/interfaces/macs/${eni.macAddress!}/gateway`)).text).toBe('192.168.10.253');
    expect((await md(emu, `network/interfaces/macs/${eni.macAddress!}/netmask`)).text).toBe('255.255.255.0');
    expect((await md(emu, `network/interfaces/macs/${eni.macAddress!}/network-interface-id`)).text).toBe(id);
    // delete while InUse is refused
    expect((await failure(c.deleteNetworkInterface(new Ecs.DeleteNetworkInterfaceRequest({ regionId: REGION, networkInterfaceId: id })))).code).toBe('InvalidOperation.InvalidEniState');
    await c.detachNetworkInterface(new Ecs.DetachNetworkInterfaceRequest({ regionId: REGION, instanceId: emu.node.id, networkInterfaceId: id }));
    await waitFor(async () => (await status())?.status === 'Available');
    await c.deleteNetworkInterface(new Ecs.DeleteNetworkInterfaceRequest({ regionId: REGION, networkInterfaceId: id }));
    expect(await status()).toBeUndefined();
    expect((await failure(c.deleteNetworkInterface(new Ecs.DeleteNetworkInterfaceRequest({ regionId: REGION, networkInterfaceId: id })))).code).toBe('InvalidEniId.NotFound');
    expect(emu.state.freeCount(VSW)).toBe(252 - 1); // only the node's primary address is in use
  });

  it('quotas: ENIs per instance, IPs per ENI, ≤ 10 per call; IpNotEnough; unassign of an unassigned address', async () => {
    const c = sdkFor(emu); // ecs.g6.xlarge: 3 ENIs × 10 IPs
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await create(c)).body!.networkInterfaceId!);
    const attach = (id: string) => c.attachNetworkInterface(new Ecs.AttachNetworkInterfaceRequest({ regionId: REGION, instanceId: emu.node.id, networkInterfaceId: id }));
    await attach(ids[0]!);
    await attach(ids[1]!);
    const e = await failure(attach(ids[2]!));
    expect(e.code).toBe('EniPerInstanceLimitExceeded');
    expect(e.statusCode).toBe(403);
    await waitFor(() => emu.state.enis.get(ids[0]!)?.status === 'InUse');
    const assign = (n: number) => c.assignPrivateIpAddresses(new Ecs.AssignPrivateIpAddressesRequest({ regionId: REGION, networkInterfaceId: ids[0], secondaryPrivateIpAddressCount: n }));
    expect((await failure(assign(11))).code).toBe('InvalidParameter.SecondaryPrivateIpAddressCount');
    const got = await assign(9);
    expect(got.body?.assignedPrivateIpAddressesSet?.privateIpSet?.privateIpAddress).toHaveLength(9);
    expect((await failure(assign(1))).code).toBe('QuotaExceeded.PrivateIpAddress');
    const unassign = (ips: string[]) => c.unassignPrivateIpAddresses(new Ecs.UnassignPrivateIpAddressesRequest({ regionId: REGION, networkInterfaceId: ids[0], privateIpAddress: ips }));
    expect((await failure(unassign(['192.168.10.200']))).code).toBe('InvalidIp.IpUnassigned');
    await unassign([got.body!.assignedPrivateIpAddressesSet!.privateIpSet!.privateIpAddress![0]!]);
    emu.state.vswitch(VSW).ipNotEnough = true;
    expect((await failure(assign(1))).code).toBe('InvalidVSwitchId.IpNotEnough');
    expect((await failure(create(c))).code).toBe('InvalidVSwitchId.IpNotEnough');
  });

  it('DescribeInstanceTypes answers the quotas; DescribeNetworkInterfaces filters and pages (NextToken and PageNumber)', async () => {
    const c = sdkFor(emu);
    const t = (await c.describeInstanceTypes(new Ecs.DescribeInstanceTypesRequest({ instanceTypes: ['ecs.g6.xlarge'] }))).body?.instanceTypes?.instanceType;
    expect(t).toEqual([expect.objectContaining({ instanceTypeId: 'ecs.g6.xlarge', eniQuantity: 3, eniPrivateIpAddressQuantity: 10, eniTotalQuantity: 6, eniTrunkSupported: true })]);
    for (let i = 0; i < 25; i++) await create(c, { tag: [new Ecs.CreateNetworkInterfaceRequestTag({ key: 'k', value: i % 2 === 0 ? 'even' : 'odd' })] });
    const seen: string[] = [];
    let next = '';
    do {
      const r = (await c.describeNetworkInterfaces(new Ecs.DescribeNetworkInterfacesRequest({ regionId: REGION, type: 'Secondary', maxResults: 10, ...(next === '' ? {} : { nextToken: next }) }))).body!;
      seen.push(...r.networkInterfaceSets!.networkInterfaceSet!.map((e) => e.networkInterfaceId!));
      next = r.nextToken ?? '';
    } while (next !== '');
    expect(new Set(seen).size).toBe(25);
    const page3 = (await c.describeNetworkInterfaces(new Ecs.DescribeNetworkInterfacesRequest({ regionId: REGION, pageNumber: 3, pageSize: 10 }))).body!;
    expect(page3.totalCount).toBe(26);
    expect(page3.networkInterfaceSets?.networkInterfaceSet).toHaveLength(6);
    const even = (await c.describeNetworkInterfaces(new Ecs.DescribeNetworkInterfacesRequest({ regionId: REGION, pageSize: 100, tag: [new Ecs.DescribeNetworkInterfacesRequestTag({ key: 'k', value: 'even' })] }))).body!;
    expect(even.totalCount).toBe(13);
    const mine = (await c.describeNetworkInterfaces(new Ecs.DescribeNetworkInterfacesRequest({ regionId: REGION, instanceId: emu.node.id }))).body!;
    expect(mine.networkInterfaceSets?.networkInterfaceSet?.map((e) => e.type)).toEqual(['Primary']);
  });

  it('faults: a throttled share, errors for the next calls, a reply lost after the action took effect; counters per action', async () => {
    const c = sdkFor(emu, { readTimeout: 300 });
    emu.api.faults.throttle('DescribeNetworkInterfaces', 0.5);
    let throttled = 0;
    for (let i = 0; i < 40; i++) {
      try {
        await c.describeNetworkInterfaces(new Ecs.DescribeNetworkInterfacesRequest({ regionId: REGION }));
      } catch (e) {
        expect((e as SdkErr).code).toBe('Throttling');
        expect((e as { name: string }).name).toBe('ThrottlingError');
        throttled++;
      }
    }
    expect(throttled).toBeGreaterThan(8);
    expect(throttled).toBeLessThan(32);
    expect(emu.api.count('DescribeNetworkInterfaces')).toEqual({ received: 40, ok: 40 - throttled, throttled });
    emu.api.faults.failNext('CreateNetworkInterface', 'InternalError', 2);
    expect((await failure(create(c))).statusCode).toBe(500);
    expect((await failure(create(c))).code).toBe('InternalError');
    await create(c);
    emu.api.faults.lateReply('CreateNetworkInterface', { mode: 'drop' });
    await failure(create(c));
    emu.api.faults.lateReply('CreateNetworkInterface', { mode: 'delay', delayMs: 2000 });
    expect(((await failure(create(c))) as unknown as Error).message).toMatch(/ReadTimeout/u);
    // both late replies took effect: 3 ENIs besides the primary
    expect([...emu.state.enis.values()].filter((e) => e.type === 'Secondary')).toHaveLength(3);
    expect(emu.api.counters()).toMatchObject({ DescribeNetworkInterfaces: 40, CreateNetworkInterface: 5 });
  });

  it('faults: one operation per ENI — a second one on the same ENI while the first holds it is refused with Operation.Conflict', async () => {
    const c = sdkFor(emu);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push((await create(c)).body!.networkInterfaceId!);
    emu.api.faults.serializeEnis(300);
    const assign = (id: string) => c.assignPrivateIpAddresses(new Ecs.AssignPrivateIpAddressesRequest({ regionId: REGION, networkInterfaceId: id, secondaryPrivateIpAddressCount: 1 }));
    const first = assign(ids[0]!);
    await new Promise((r) => setTimeout(r, 50));
    const conflict = await failure(assign(ids[0]!));
    expect(conflict.code).toBe('Operation.Conflict');
    expect(conflict.data.Message).toContain(ids[0]!);
    await assign(ids[1]!); // another ENI: not held
    await first; // its reply comes once the operation is done
    await assign(ids[0]!); // after it: accepted
    expect(emu.state.enis.get(ids[0]!)?.ips).toHaveLength(3);
    expect(emu.api.calls.filter((x) => x.outcome === 'Operation.Conflict')).toHaveLength(1);
    emu.api.faults.clear();
  });

  it('metadata token API: PUT with a TTL, 401 for a bad or expired token, 403 without one in hardened mode', async () => {
    expect((await md(emu, 'instance-id')).text).toBe(emu.node.id);
    const put = await fetch(`${emu.metadata.url}/latest/api/token`, { method: 'PUT', headers: { 'X-aliyun-ecs-metadata-token-ttl-seconds': '60' } });
    const token = await put.text();
    expect(put.status).toBe(200);
    expect((await fetch(`${emu.metadata.url}/latest/api/token`, { method: 'PUT', headers: { 'X-aliyun-ecs-metadata-token-ttl-seconds': '99999' } })).status).toBe(400);
    emu.metadata.requireToken = true;
    expect((await md(emu, 'instance-id')).status).toBe(403);
    expect(await md(emu, 'instance/instance-type', { 'X-aliyun-ecs-metadata-token': token })).toEqual({ status: 200, text: 'ecs.g6.xlarge' });
    expect((await md(emu, 'zone-id', { 'X-aliyun-ecs-metadata-token': 'bogus' })).status).toBe(401);
    emu.metadata.expireTokens();
    expect((await md(emu, 'zone-id', { 'X-aliyun-ecs-metadata-token': token })).status).toBe(401);
  });
});
