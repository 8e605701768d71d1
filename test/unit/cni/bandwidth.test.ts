import { parseBandwidthAnnotations } from '../../../src/bandwidth/annotations.js';
import { defaultBurstBits } from '../../../src/bandwidth/burst.js';
import { mergeBandwidth, runtimeBandwidth, withRuntimeBandwidth } from '../../../src/cni/bandwidth.js';
import { CniError, toCniError } from '../../../src/cni/errors.js';
import { httpErrorOf } from '../../../src/daemon/http-errors.js';
import type { Cidr, IpAddr } from '../../../src/lib/brand.js';
import { errorForReply } from '../../../src/rpc/client.js';
import { parseAllocation } from '../../../src/rpc/messages.js';

describe('runtimeConfig.bandwidth', () => {
  it('parses bits/s and bits; a rate without burst gets the default burst', () => {
    expect(runtimeBandwidth({ bandwidth: { ingressRate: 8000, ingressBurst: 16000, egressRate: 1e6 } })).toEqual({
      ingress: { rateBps: 8000, burstBits: 16000 },
      egress: { rateBps: 1e6, burstBits: defaultBurstBits(1e6) },
    });
    expect(runtimeBandwidth({ bandWidth: { ingressRate: 8, ingressBurst: 8 } })).toEqual({ ingress: { rateBps: 8, burstBits: 8 } });
    expect(runtimeBandwidth({ bandwidth: { ingressRate: 0, ingressBurst: 0 } })).toBeUndefined();
    expect(runtimeBandwidth(undefined)).toBeUndefined();
  });
  it.each([
    [{ ingressBurst: 123 }, /ingressBurst.*if burst is set, rate must also be set/u],
    [{ egressRate: -1 }, /egressRate/u],
    [{ egressRate: 'fast' }, /egressRate/u],
    [{ egressRate: 5000, egressBurst: 4 * 1024 ** 3 * 8 }, /4GB/u],
  ])('%j → code 7 naming the field', (bw, msg) => {
    let err: unknown;
    try {
      runtimeBandwidth({ bandwidth: bw });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CniError);
    expect((err as CniError).code).toBe(7);
    expect((err as CniError).message).toMatch(msg);
  });
  it('merges per direction: runtimeConfig > annotations', () => {
    const ann = { ingress: { rateBps: 1e6, burstBits: 1e6 }, egress: { rateBps: 2e6, burstBits: 2e6 } };
    expect(mergeBandwidth({ ingress: { rateBps: 5e6, burstBits: 9 } }, ann)).toEqual({ ingress: { rateBps: 5e6, burstBits: 9 }, egress: ann.egress });
    expect(mergeBandwidth(undefined, undefined)).toBeUndefined();
    const alloc = { mode: 'vpc', ip: '10.0.0.1' as IpAddr, subnet: '10.0.0.0/24' as Cidr, mtu: 1500, bandwidth: ann } as const;
    expect(withRuntimeBandwidth(alloc, { bandwidth: { egressRate: 8000, egressBurst: 80 } }).bandwidth).toEqual({ ingress: ann.ingress, egress: { rateBps: 8000, burstBits: 80 } });
  });
});

describe('Allocation.bandwidth over the RPC', () => {
  it('round-trips through the parser and rejects bad values', () => {
    const raw = { mode: 'vpc', ip: '10.0.0.1', subnet: '10.0.0.0/24', mtu: 1500, bandwidth: { egress: { rateBps: 1e6, burstBits: 524288 } } };
    expect(parseAllocation(JSON.parse(JSON.stringify(raw))).bandwidth).toEqual({ egress: { rateBps: 1e6, burstBits: 524288 } });
    expect(() => parseAllocation({ ...raw, bandwidth: { egress: { rateBps: -1, burstBits: 1 } } })).toThrow(/allocation.bandwidth.egress.rateBps/u);
    expect(parseAllocation({ ...raw, bandwidth: undefined }).bandwidth).toBeUndefined();
  });
  it('a bad annotation at allocate: ConfigError → HTTP 422 {code: config} → ConfigError → CNI code 7 naming annotation and value', () => {
    let daemonErr: unknown;
    try {
      parseBandwidthAnnotations({ 'kubernetes.io/egress-bandwidth': '10Q' });
    } catch (e) {
      daemonErr = e;
    }
    const reply = httpErrorOf(daemonErr);
    expect(reply).toMatchObject({ status: 422, body: { code: 'config' } });
    const cni = toCniError(errorForReply(reply.status, JSON.stringify(reply.body), 'POST /v1/allocate'));
    expect(cni.code).toBe(7);
    expect(cni.message).toContain('kubernetes.io/egress-bandwidth');
    expect(cni.message).toContain('"10Q"');
  });
});
