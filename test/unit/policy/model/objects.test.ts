/** The OBJECTS reader: kubectl's YAML shapes in, one model or every bad object (named, with its field) out. */
import { stringify } from 'yaml';
import { readObjects, type ObjectsResult } from '../../../../src/policy/model/objects.js';
import type { PolicyModel } from '../../../../src/policy/model/types.js';

function model(r: ObjectsResult): PolicyModel {
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.model;
}

function errors(r: ObjectsResult): string[] {
  return r.ok ? [] : r.errors.map((e) => e.message);
}

const NS_X = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', labels: { team: 'blue' } } };
const POD_XA = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: 'x', name: 'a', labels: { app: 'web' } },
  spec: {
    nodeName: 'node-1',
    containers: [
      { name: 'web', ports: [{ containerPort: 8080, name: 'http' }, { containerPort: 9090 }] },
      { name: 'dns', ports: [{ containerPort: 53, name: 'dns', protocol: 'UDP' }] },
    ],
  },
  status: { phase: 'Running', hostIP: '192.168.0.1', podIP: '10.0.1.1', podIPs: [{ ip: '10.0.1.1' }, { ip: 'FD00::1' }] },
};
const NP = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: 'x', name: 'web' },
  spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 'http' }] }] },
};

describe('readObjects (OBJECTS text → model)', () => {
  it('reads a multi-document YAML file as kubectl writes it', () => {
    const m = model(readObjects([NS_X, POD_XA, NP].map((o) => stringify(o)).join('---\n')));
    expect(m.namespaces.get('x')).toEqual({ name: 'x', labels: { team: 'blue', 'kubernetes.io/metadata.name': 'x' }, synthesized: false });
    expect(m.pods).toEqual([
      {
        namespace: 'x',
        name: 'a',
        labels: { app: 'web' },
        ips: ['10.0.1.1', 'fd00::1'],
        namedPorts: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }],
        nodeName: 'node-1',
        hostNetwork: false,
      },
    ]);
    expect(m.policies[0]).toMatchObject({ namespace: 'x', name: 'web', policyTypes: { ingress: true, egress: false } });
    expect(m.nodes.get('node-1')).toEqual({ name: 'node-1', ips: ['192.168.0.1'] });
  });

  it('reads a v1 List, typed lists (items without kind), JSON, and Node addresses', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [NS_X, POD_XA] };
    const typed = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicyList', items: [{ metadata: NP.metadata, spec: NP.spec }] };
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.0.7' }, { type: 'Hostname', address: 'node-1' }] } };
    const r = readObjects(`${stringify(list)}---\n${JSON.stringify(typed)}\n---\n${stringify(node)}`);
    const m = model(r);
    expect([m.pods.length, m.policies.length]).toEqual([1, 1]);
    expect(m.nodes.get('node-1')?.ips).toEqual(['192.168.0.1', '192.168.0.7']);
  });

  it('synthesizes absent namespaces with only the name label, and says so', () => {
    const r = readObjects(stringify(POD_XA));
    expect(model(r).namespaces.get('x')).toEqual({ name: 'x', labels: { 'kubernetes.io/metadata.name': 'x' }, synthesized: true });
    expect(r.ok && r.notes).toEqual(['Namespace x: not in the input; assumed to carry only the label kubernetes.io/metadata.name=x']);
  });

  it('skips other kinds and finished pods with a note; an object without namespace goes to the default namespace', () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'x', name: 's' } };
    const done = { ...POD_XA, metadata: { namespace: 'x', name: 'job' }, status: { phase: 'Succeeded', podIP: '10.0.1.1' } };
    const bare = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lone' } };
    const r = readObjects([NS_X, svc, done, bare].map((o) => stringify(o)).join('---\n'), { defaultNamespace: 'team-a' });
    expect(model(r).pods.map((p) => `${p.namespace}/${p.name}`)).toEqual(['team-a/lone']);
    expect(r.ok && r.notes.slice(0, 2)).toEqual([
      'Service x/s: skipped (kind Service is not used by NetworkPolicy)',
      'Pod x/job: skipped (phase Succeeded: a finished pod holds no IP)',
    ]);
  });

  it('refuses bad objects naming the object and the field, reports all of them, and returns no model', () => {
    const badPolicy = { ...NP, spec: { ingress: [{ ports: [{ port: 80, protocol: 'ICMP' }] }] } };
    const badPod = { ...POD_XA, metadata: { namespace: 'y', name: 'b' }, status: { podIP: '10.0.300.1' } };
    const r = readObjects([NS_X, badPolicy, POD_XA, badPod].map((o) => stringify(o)).join('---\n'));
    expect(r.ok).toBe(false);
    expect(errors(r)).toEqual([
      'NetworkPolicy x/web: spec.ingress[0].ports[0].protocol: must be one of TCP, UDP, SCTP; got "ICMP"',
      'Pod y/b: status.podIP: not an IP address: "10.0.300.1"',
    ]);
    if (!r.ok) expect([r.errors[0]?.object, r.errors[0]?.path, r.errors[0]?.code]).toEqual(['NetworkPolicy x/web', 'spec.ingress[0].ports[0].protocol', 'invalid-input']);
  });

  it('names a nameless object by its document (and list item) index; YAML syntax errors by document', () => {
    const noName = { apiVersion: 'v1', kind: 'Pod', metadata: {} };
    const r = readObjects(`${stringify(NS_X)}---\n${stringify({ apiVersion: 'v1', kind: 'List', items: [POD_XA, noName] })}---\nkind: [unclosed\n`);
    expect(errors(r)).toEqual(['Pod (document 2 items[1]): metadata.name: is required', expect.stringMatching(/^document 3: not valid YAML: /u)]);
    expect(errors(readObjects('- 1\n- 2\n'))).toEqual(['document 1: must be a Kubernetes object; got an array']);
    expect(errors(readObjects('metadata: {name: a}\n'))).toEqual(['document 1: kind: is required']);
  });

  it('refuses duplicates, wrong apiVersions and malformed fields', () => {
    expect(errors(readObjects([NS_X, NS_X].map((o) => stringify(o)).join('---\n')))).toEqual(['Namespace x: appears twice (document 1 and document 2)']);
    expect(errors(readObjects(stringify({ ...NP, apiVersion: 'extensions/v1beta1' })))).toEqual(['NetworkPolicy x/web: apiVersion: must be networking.k8s.io/v1 for kind NetworkPolicy; got string "extensions/v1beta1"']);
    const badPort = { ...POD_XA, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, name: 'Not_Valid' }] }] } };
    expect(errors(readObjects(stringify(badPort)))).toEqual(['Pod x/a: spec.containers[0].ports[0].name: not a valid port name (IANA_SVC_NAME): "Not_Valid"']);
    const badLabels = { ...NS_X, metadata: { name: 'x', labels: { ok: 'yes', 'a b': 'c' } } };
    expect(errors(readObjects(stringify(badLabels)))).toEqual(['Namespace x: metadata.labels.a b: not a valid label key: "a b"']);
    expect(errors(readObjects(stringify({ ...NP, spec: 'nope' })))).toEqual(['NetworkPolicy x/web: spec: must be an object; got string "nope"']);
    expect(errors(readObjects(stringify({ ...POD_XA, spec: { hostNetwork: 'yes' } })))).toEqual(['Pod x/a: spec.hostNetwork: must be true or false; got string "yes"']);
  });

  it('refuses unknown NetworkPolicy fields (kubectl strict field validation): a typo must not change isolation', () => {
    expect(errors(readObjects(stringify({ ...NP, spec: { podSelector: {}, ingres: [{}] } })))).toEqual([
      'NetworkPolicy x/web: spec.ingres: unknown field (known: podSelector, policyTypes, ingress, egress)',
    ]);
    expect(errors(readObjects(stringify({ ...NP, spec: { ingress: [{ from: [{ podSelector: { matchLabel: { a: 'b' } } }] }] } })))).toEqual([
      'NetworkPolicy x/web: spec.ingress[0].from[0].podSelector.matchLabel: unknown field (known: matchLabels, matchExpressions)',
    ]);
    expect(errors(readObjects(stringify({ ...NP, spec: { egress: [{ from: [{ podSelector: {} }] }] } })))).toEqual([
      'NetworkPolicy x/web: spec.egress[0].from: unknown field (known: to, ports)',
    ]);
    expect(errors(readObjects(stringify({ apiVersion: 'v1', kind: 'Namespace' })))).toEqual(['Namespace (document 1): metadata: is required']);
  });

  it.each([
    ['a Node address that is not an IP', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.x' }] } }, 'Node n1: status.addresses[0].address: not an IP address: "10.0.0.x"'],
    ['a Namespace name that is not a DNS label', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } }, 'Namespace a.b: metadata.name: not a valid namespace name: "a.b"'],
    ['an object name with upper case', { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'x', name: 'Web' } }, 'Pod x/Web: metadata.name: not a valid object name: "Web"'],
    ['a containerPort out of range', { ...POD_XA, spec: { containers: [{ name: 'c', ports: [{ containerPort: 70000 }] }] } }, 'Pod x/a: spec.containers[0].ports[0].containerPort: must be 1..65535; got 70000'],
    ['a label key with a bad prefix', { ...POD_XA, metadata: { namespace: 'x', name: 'a', labels: { 'Bad_Prefix/app': 'web' } } }, 'Pod x/a: metadata.labels.Bad_Prefix/app: label key prefix is not a DNS subdomain: "Bad_Prefix/app"'],
    ['a label value that is too long', { ...POD_XA, metadata: { namespace: 'x', name: 'a', labels: { app: 'w'.repeat(64) } } }, expect.stringMatching(/^Pod x\/a: metadata\.labels\.app: not a valid label value: /u)],
    ['a podIPs entry without ip', { ...POD_XA, status: { podIPs: [{}] } }, 'Pod x/a: status.podIPs[0].ip: must be an IP address string; got nothing'],
    ['a List whose items is not a list', { apiVersion: 'v1', kind: 'List', items: 'none' }, 'document 1: items: must be a list; got string "none"'],
    ['a selector that is not an object', { ...NP, spec: { podSelector: 'app=web' } }, 'NetworkPolicy x/web: spec.podSelector: must be an object; got string "app=web"'],
    ['an except that is not a string', { ...NP, spec: { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: [10] } }] }] } }, 'NetworkPolicy x/web: spec.ingress[0].from[0].ipBlock.except[0]: must be a CIDR string; got number 10'],
  ])('refuses %s', (_what, obj, message) => {
    expect(errors(readObjects(stringify(obj)))).toEqual([message]);
  });

  it('an empty text is an empty model', () => {
    const m = model(readObjects(''));
    expect([m.pods.length, m.policies.length, m.namespaces.size]).toEqual([0, 0, 0]);
  });
});
