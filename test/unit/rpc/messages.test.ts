import { InvalidInputError } from '../../../src/lib/errors.js';
import {
  parseAllocateReply,
  parseAllocateRequest,
  parseAllocation,
  parseGcReply,
  parseGcRequest,
  parseLookupReply,
  parseLookupRequest,
  parsePolicyModelReply,
  parseReleaseReply,
  parseReleaseRequest,
  parseStatusReply,
  parseStatusRequest,
} from '../../../src/rpc/messages.js';

const alloc = { mode: 'veth-policy-routing', ip: '10.0.1.5', subnet: '10.0.1.0/24', mtu: 1500, eni: { link: 'eth1', ifindex: 3, gateway: '10.0.1.253', table: 1003 } };

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidInputError) return err.field;
    throw err;
  }
  throw new Error('expected InvalidInputError');
}

describe('rpc message parsers', () => {
  it('round-trips valid messages', () => {
    const allocReq = { containerId: 'c1', ifName: 'eth0', netns: '/proc/1/ns/net', podNamespace: 'ns', podName: 'p', infraContainerId: 'c1' };
    expect(parseAllocateRequest(allocReq)).toEqual(allocReq);
    expect(parseAllocateReply({ allocation: alloc })).toEqual({ allocation: alloc });
    expect(parseAllocation({ mode: 'vpc', ip: '10.0.0.2', subnet: '10.0.0.0/24', mtu: 1450 })).toEqual({ mode: 'vpc', ip: '10.0.0.2', subnet: '10.0.0.0/24', mtu: 1450 });
    expect(parseLookupRequest({ containerId: 'c1', ifName: 'eth0' })).toEqual({ containerId: 'c1', ifName: 'eth0' });
    expect(parseLookupRequest({ containerId: 'c1', ifName: 'eth0', intent: 'delete' })).toEqual({ containerId: 'c1', ifName: 'eth0', intent: 'delete' });
    expect(parseLookupReply({ found: false })).toEqual({ found: false });
    expect(parseLookupReply({ found: true, allocation: alloc, netns: '/x' })).toEqual({ found: true, allocation: alloc, netns: '/x' });
    expect(parseReleaseRequest({ containerId: 'c1', ifName: 'eth0', reason: 'CNI DEL' })).toEqual({ containerId: 'c1', ifName: 'eth0', reason: 'CNI DEL' });
    expect(parseReleaseReply({ released: true })).toEqual({ released: true });
    expect(parseStatusRequest({})).toEqual({});
    expect(parseStatusReply({ ready: false, mode: 'vpc', reason: 'r' })).toEqual({ ready: false, mode: 'vpc', reason: 'r' });
    expect(parseGcRequest({ validAttachments: [{ containerId: 'a', ifName: 'eth0' }] })).toEqual({ validAttachments: [{ containerId: 'a', ifName: 'eth0' }] });
    expect(parseGcReply({ released: [], errors: ['e'] })).toEqual({ released: [], errors: ['e'] });
  });

  it('parses the optional runtimeBandwidth of an allocate request', () => {
    const base = { containerId: 'c1', ifName: 'eth0', netns: '/proc/1/ns/net', podNamespace: 'ns', podName: 'p', infraContainerId: 'c1' };
    const runtimeBandwidth = { ingress: { rateBps: 8_000_000, burstBits: 524_288 }, egress: { rateBps: 1000, burstBits: 8 } };
    expect(parseAllocateRequest({ ...base, runtimeBandwidth })).toEqual({ ...base, runtimeBandwidth });
    expect(parseAllocateRequest({ ...base, runtimeBandwidth: { egress: runtimeBandwidth.egress } })).toEqual({ ...base, runtimeBandwidth: { egress: runtimeBandwidth.egress } });
    // absent, null and empty all mean "no runtimeConfig limits" (older plugins send nothing)
    for (const rb of [undefined, null, {}]) expect(parseAllocateRequest({ ...base, runtimeBandwidth: rb })).toEqual(base);
  });

  it('drops unknown fields', () => {
    expect(parseReleaseReply({ released: false, extra: 1 })).toEqual({ released: false });
  });

  it.each<[string, () => unknown, string]>([
    ['request not an object', () => parseLookupRequest('x'), 'request'],
    ['bad container id', () => parseLookupRequest({ containerId: 'a/b', ifName: 'eth0' }), 'containerId'],
    ['unknown lookup intent', () => parseLookupRequest({ containerId: 'a', ifName: 'eth0', intent: 'purge' }), 'intent'],
    ['bad ifName', () => parseReleaseRequest({ containerId: 'a', ifName: 'x'.repeat(16), reason: '' }), 'ifName'],
    ['relative netns', () => parseAllocateRequest({ containerId: 'a', ifName: 'eth0', netns: 'n', podNamespace: '', podName: '', infraContainerId: '' }), 'netns'],
    ['missing podName', () => parseAllocateRequest({ containerId: 'a', ifName: 'eth0', netns: '/n', podNamespace: '', infraContainerId: '' }), 'podName'],
    ['unknown mode', () => parseAllocateReply({ allocation: { ...alloc, mode: 'ipvlan9' } }), 'allocation.mode'],
    ['bad ip', () => parseAllocateReply({ allocation: { ...alloc, ip: '10.0.0.256' } }), 'allocation.ip'],
    ['bad subnet', () => parseAllocateReply({ allocation: { ...alloc, subnet: '10.0.0.0/33' } }), 'allocation.subnet'],
    ['mtu out of range', () => parseAllocateReply({ allocation: { ...alloc, mtu: 70000 } }), 'allocation.mtu'],
    ['fractional mtu', () => parseAllocateReply({ allocation: { ...alloc, mtu: 1500.5 } }), 'allocation.mtu'],
    ['bad eni gateway', () => parseAllocateReply({ allocation: { ...alloc, eni: { ...alloc.eni, gateway: 'gw' } } }), 'allocation.eni.gateway'],
    ['bad eni link', () => parseAllocateReply({ allocation: { ...alloc, eni: { ...alloc.eni, link: 'a b' } } }), 'allocation.eni.link'],
    ['eni ifindex 0', () => parseAllocateReply({ allocation: { ...alloc, eni: { ...alloc.eni, ifindex: 0 } } }), 'allocation.eni.ifindex'],
    ['found not boolean', () => parseLookupReply({ found: 'yes' }), 'found'],
    ['found without allocation', () => parseLookupReply({ found: true }), 'allocation'],
    ['status ready missing', () => parseStatusReply({ mode: 'vpc', reason: '' }), 'ready'],
    ['runtimeBandwidth not an object', () => parseAllocateRequest({ containerId: 'a', ifName: 'eth0', netns: '/n', podNamespace: '', podName: '', infraContainerId: '', runtimeBandwidth: 5 }), 'runtimeBandwidth'],
    ['runtimeBandwidth rate too small', () => parseAllocateRequest({ containerId: 'a', ifName: 'eth0', netns: '/n', podNamespace: '', podName: '', infraContainerId: '', runtimeBandwidth: { ingress: { rateBps: 1, burstBits: 8 } } }), 'runtimeBandwidth.ingress.rateBps'],
    ['runtimeBandwidth burst missing', () => parseAllocateRequest({ containerId: 'a', ifName: 'eth0', netns: '/n', podNamespace: '', podName: '', infraContainerId: '', runtimeBandwidth: { egress: { rateBps: 1000 } } }), 'runtimeBandwidth.egress.burstBits'],
    ['gc attachments not an array', () => parseGcRequest({ validAttachments: {} }), 'validAttachments'],
    ['gc attachment bad ifName', () => parseGcRequest({ validAttachments: [{ containerId: 'a', ifName: '' }] }), 'validAttachments[0].ifName'],
    ['gc reply error not a string', () => parseGcReply({ released: [], errors: [1] }), 'errors[0]'],
    ['policy model objects not a list', () => parsePolicyModelReply({ kubernetes: true, nodeName: 'n', objects: {}, refused: [] }), 'objects'],
    ['policy model refusal not a string', () => parsePolicyModelReply({ kubernetes: true, nodeName: 'n', objects: [], refused: [3] }), 'refused[0]'],
    ['policy model kubernetes missing', () => parsePolicyModelReply({ nodeName: 'n', objects: [], refused: [] }), 'kubernetes'],
  ])('%s names the field', (_n, fn, field) => {
    expect(fieldOf(fn)).toBe(field);
  });
});
