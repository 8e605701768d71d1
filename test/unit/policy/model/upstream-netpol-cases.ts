/**
 * Conformance table transcribed from the upstream Kubernetes e2e NetworkPolicy suite:
 *
 *   kubernetes/kubernetes test/e2e/network/netpol/network_policy.go
 *   (read at commit 008b3652959ca58af8be3fb5b6ecfe9ae7638282; helpers in policies.go — SetSpecIngressRules /
 *   SetSpecEgressRules add "Ingress"/"Egress" to policyTypes — model.go and reachability.go)
 *
 * Each case is one upstream `f.It(...)`; `test` is its name verbatim and `context` its SIGDescribe/Context. Upstream
 * builds the pods named by `initializeResources(..., "x/a", ...)` in namespaces x, y, z (labels `ns: <name>` and the
 * automatic `kubernetes.io/metadata.name`), pod labels `pod: <name>`, one container per (port, protocol) with the
 * named port `serve-<port>-<proto>`. Namespace names here are exactly x, y, z (upstream adds a random prefix).
 *
 * A case is a list of steps, one per upstream `ValidateOrFail`: the policies present at that moment and the
 * expectations built for it — `NewReachability(all pods, true)` then the `Expect*` calls in their order:
 *   ['peer', from, to, b]   = reachability.ExpectPeer(&Peer{...}, &Peer{...}, b)   ({} = any namespace / pod)
 *   ['pair', 'x/b', 'x/a', b] = reachability.Expect(NewPodString(...), NewPodString(...), b)
 *   ['allIngress', 'x/a', b] / ['allEgress', 'x/a', b] = ExpectAllIngress / ExpectAllEgress
 * Loopback (a pod to itself) is ignored, as upstream does (ignoreLoopback = true).
 *
 * Where upstream changes something outside the policies between steps (AddPodLabels, AddNamespaceLabel, UpdatePolicy,
 * cleanNetworkPolicies), the step carries the resulting state (`podLabels`, `namespaceLabels`, the policy list) and a
 * `note` says so. Pod IPs are this model's (POD_IPS): upstream's ipBlock cases read the real IP of the pod at run
 * time (`pod.Status.PodIP + "/32"`, `makeLargeCIDRForIP` = the /4 holding it); the same formulas are applied here.
 */
import type { Protocol } from '../../../../src/policy/model/types.js';

export const UPSTREAM_FILE = 'kubernetes/kubernetes test/e2e/network/netpol/network_policy.go';
export const UPSTREAM_COMMIT = '008b3652959ca58af8be3fb5b6ecfe9ae7638282';

export interface PeerPattern {
  readonly ns?: string;
  readonly pod?: string;
}

export type Expectation =
  | readonly ['peer', PeerPattern, PeerPattern, boolean]
  | readonly ['pair', string, string, boolean]
  | readonly ['allIngress', string, boolean]
  | readonly ['allEgress', string, boolean];

export interface Step {
  readonly port: number;
  readonly protocol: Protocol;
  /** NetworkPolicy objects present at this step, as `kubectl get -o yaml` would show them. */
  readonly policies: readonly object[];
  readonly expect: readonly Expectation[];
  /** Labels of pods changed by the test before this step (AddPodLabels), replacing `pod: <name>`. */
  readonly podLabels?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Labels added to namespaces before this step (AddNamespaceLabel). */
  readonly namespaceLabels?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly note?: string;
}

export interface UpstreamCase {
  /** The upstream file the case is transcribed from. */
  readonly file: string;
  readonly context: string;
  readonly test: string;
  /** initializeResources(ctx, f, protocols, ports, ...pods) */
  readonly pods: readonly string[];
  readonly ports: readonly number[];
  readonly protocols: readonly Protocol[];
  readonly steps: readonly Step[];
}

/** IPs of the model's pods (upstream reads them from the cluster). */
export const POD_IPS: Readonly<Record<string, string>> = {
  'x/a': '10.244.1.10', 'x/b': '10.244.1.11', 'x/c': '10.244.1.12',
  'y/a': '10.244.2.10', 'y/b': '10.244.2.11', 'y/c': '10.244.2.12',
  'z/a': '10.244.3.10', 'z/b': '10.244.3.11', 'z/c': '10.244.3.12',
};

/** makeLargeCIDRForIP: the /4 that holds the IP. */
function largeCidr(ip: string): string {
  const first = Number(ip.split('.')[0]) & 0xf0;
  return `${String(first)}.0.0.0/4`;
}

const NS_NAME = 'kubernetes.io/metadata.name';
const CTX_TCP = 'Netpol / NetworkPolicy between server and client';
const CTX_UDP = 'Netpol [LinuxOnly] / NetworkPolicy between server and client using UDP';
const CTX_SCTP = 'Netpol [Feature:SCTPConnectivity] [LinuxOnly] / NetworkPolicy between server and client using SCTP';

type Spec = Record<string, unknown>;

function np(namespace: string, name: string, spec: Spec): object {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec };
}

/** GenNetworkPolicyWithNameAndPodMatchLabel + SetSpecIngressRules(rules...) */
function ingressPolicy(ns: string, name: string, match: Record<string, string>, ingress: readonly object[]): object {
  return np(ns, name, { podSelector: { matchLabels: match }, policyTypes: ['Ingress'], ingress });
}

/** GenNetworkPolicyWithNameAndPodMatchLabel + SetSpecEgressRules(rules...) */
function egressPolicy(ns: string, name: string, match: Record<string, string>, egress: readonly object[]): object {
  return np(ns, name, { podSelector: { matchLabels: match }, policyTypes: ['Egress'], egress });
}

const ANY: PeerPattern = {};
const X: PeerPattern = { ns: 'x' };
const Y: PeerPattern = { ns: 'y' };
const Z: PeerPattern = { ns: 'z' };
const XA: PeerPattern = { ns: 'x', pod: 'a' };

const nsIs = (ns: string): object => ({ matchLabels: { [NS_NAME]: ns } });
const nsNotIn = (ns: string): object => ({ matchExpressions: [{ key: NS_NAME, operator: 'NotIn', values: [ns] }] });
const podIs = (pod: string): object => ({ matchLabels: { pod } });

const denyIngressNsX = (name: string): object => np('x', name, { podSelector: {}, policyTypes: ['Ingress'], ingress: [] });
const denyAllNsX = np('x', 'deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] });

const nsYPort81 = ingressPolicy('x', 'allow-client-a-via-ns-selector', { pod: 'a' }, [{ from: [{ namespaceSelector: nsIs('y') }], ports: [{ port: 81, protocol: 'TCP' }] }]);
const nsYPort80 = ingressPolicy('x', 'allow-client-a-via-ns-selector-80', { pod: 'a' }, [{ from: [{ namespaceSelector: nsIs('y') }], ports: [{ port: 80, protocol: 'TCP' }] }]);
const onlyFromY: readonly Expectation[] = [['peer', X, XA, false], ['peer', Y, XA, true], ['peer', Z, XA, false]];

const tcp = (port: number, policies: readonly object[], expect: readonly Expectation[], extra: Partial<Step> = {}): Step => ({ port, protocol: 'TCP', policies, expect, ...extra });

type Transcribed = Omit<UpstreamCase, 'file'>;

function trio(ctx: string, protocol: Protocol): Transcribed[] {
  const proto = protocol;
  return [
    {
      context: ctx,
      test: "should support a 'default-deny-ingress' policy",
      pods: ['x/a', 'x/b', 'y/a', 'y/b'], ports: [80], protocols: [proto],
      steps: [{ port: 80, protocol: proto, policies: [denyIngressNsX('deny-all')], expect: [['peer', ANY, X, false]] }],
    },
    {
      context: ctx,
      test: 'should enforce policy based on Ports',
      pods: ['x/a', 'x/b', 'y/a', 'z/a'], ports: [81], protocols: [proto],
      steps: [{
        port: 81, protocol: proto,
        policies: [ingressPolicy('x', 'allow-ingress-on-port-81-ns-x', { pod: 'a' }, [{ from: [{ namespaceSelector: nsIs('y') }], ports: [{ port: 81, protocol: proto }] }])],
        expect: [['peer', X, XA, false], ['peer', Z, XA, false]],
      }],
    },
    {
      context: ctx,
      test: 'should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector',
      pods: ['x/a', 'x/b', 'y/a'], ports: [80], protocols: [proto],
      steps: [{
        port: 80, protocol: proto,
        policies: [ingressPolicy('x', 'allow-ns-y-pod-a-via-namespace-pod-selector', { pod: 'a' }, [{ from: [{ namespaceSelector: nsIs('y'), podSelector: podIs('a') }] }])],
        expect: [['allIngress', 'x/a', false], ['pair', 'y/a', 'x/a', true]],
      }],
    },
  ];
}

const cidrExceptXb = egressPolicy('x', 'allow-client-a-via-cidr-egress-rule', { pod: 'a' }, [
  { to: [{ ipBlock: { cidr: largeCidr(POD_IPS['x/b']!), except: [`${POD_IPS['x/b']!}/32`] } }] },
]);

const TRANSCRIBED: readonly Transcribed[] = [
  {
    context: CTX_TCP, test: "should support a 'default-deny-ingress' policy",
    pods: ['x/a', 'x/b', 'y/a', 'y/b'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [denyIngressNsX('deny-ingress')], [['peer', ANY, X, false]])],
  },
  {
    context: CTX_TCP, test: "should support a 'default-deny-all' policy",
    pods: ['x/a', 'x/b', 'y/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [denyAllNsX], [['peer', ANY, X, false], ['peer', X, ANY, false]])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy to allow traffic from pods within server namespace based on PodSelector',
    pods: ['x/a', 'x/b', 'x/c', 'y/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [ingressPolicy('x', 'x-a-allows-x-b', { pod: 'a' }, [{ from: [{ podSelector: podIs('b') }] }])], [['allIngress', 'x/a', false], ['pair', 'x/b', 'x/a', true]])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy to allow ingress traffic for a target',
    pods: ['x/a', 'x/b', 'y/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [
      denyIngressNsX('deny-all'),
      ingressPolicy('x', 'allow-all-to-a', { pod: 'a' }, [{ from: [{ podSelector: {}, namespaceSelector: {} }] }]),
    ], [['allIngress', 'x/a', true], ['allIngress', 'x/b', false]])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy to allow ingress traffic from pods in all namespaces',
    pods: ['x/a', 'x/b', 'y/a', 'z/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [ingressPolicy('x', 'allow-from-another-ns', { pod: 'a' }, [{ from: [{ namespaceSelector: { matchLabels: {} } }] }])], [])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector',
    pods: ['x/a', 'x/b', 'y/a', 'z/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [ingressPolicy('x', 'allow-client-a-via-ns-selector', { pod: 'a' }, [{ from: [{ namespaceSelector: nsIs('y') }] }])], [['peer', X, XA, false], ['peer', Z, XA, false]])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy based on PodSelector with MatchExpressions',
    pods: ['x/a', 'x/b', 'y/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [ingressPolicy('x', 'x-a-allows-x-b', { pod: 'a' }, [{ from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] } }] }])], [['allIngress', 'x/a', false], ['pair', 'x/b', 'x/a', true]])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy based on NamespaceSelector with MatchExpressions',
    pods: ['x/a', 'x/b', 'y/a', 'z/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [ingressPolicy('x', 'allow-ns-y-match-selector', { pod: 'a' }, [{ from: [{ namespaceSelector: { matchExpressions: [{ key: NS_NAME, operator: 'In', values: ['y'] }] } }] }])], [['peer', X, XA, false], ['peer', Z, XA, false]])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy based on PodSelector or NamespaceSelector',
    pods: ['x/a', 'x/b', 'x/c', 'y/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [ingressPolicy('x', 'allow-ns-y-match-selector', { pod: 'a' }, [{ from: [{ namespaceSelector: nsNotIn('x') }, { podSelector: podIs('b') }] }])], [['pair', 'x/a', 'x/a', false], ['pair', 'x/c', 'x/a', false]])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy based on PodSelector and NamespaceSelector',
    pods: ['x/a', 'x/b', 'y/a', 'y/b', 'z/b'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [ingressPolicy('x', 'allow-ns-y-podselector-and-nsselector', { pod: 'a' }, [{ from: [{ namespaceSelector: nsNotIn('x'), podSelector: podIs('b') }] }])], [['allIngress', 'x/a', false], ['pair', 'y/b', 'x/a', true], ['pair', 'z/b', 'x/a', true]])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy based on Multiple PodSelectors and NamespaceSelectors',
    pods: ['x/a', 'x/b', 'y/a', 'y/b', 'y/c'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [ingressPolicy('x', 'allow-ns-y-z-pod-b-c', { pod: 'a' }, [{ from: [{ namespaceSelector: nsNotIn('x'), podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] } }] }])], [['peer', X, XA, false], ['pair', 'y/a', 'x/a', false]])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy based on any PodSelectors',
    pods: ['x/a', 'x/b', 'x/c'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [ingressPolicy('x', 'allow-ns-x-pod-b-c', { pod: 'a' }, [{ from: [{ podSelector: podIs('b') }, { podSelector: podIs('c') }] }])], [['allIngress', 'x/a', false], ['pair', 'x/b', 'x/a', true], ['pair', 'x/c', 'x/a', true]])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector',
    pods: ['x/a', 'x/b', 'y/a', 'y/b', 'z/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [ingressPolicy('x', 'allow-ns-y-pod-a-via-namespace-pod-selector', { pod: 'a' }, [{ from: [{ namespaceSelector: nsIs('y'), podSelector: podIs('a') }] }])], [['allIngress', 'x/a', false], ['pair', 'y/a', 'x/a', true]])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy based on Ports',
    pods: ['x/a', 'x/b', 'y/a', 'y/b', 'z/a'], ports: [81], protocols: ['TCP'],
    steps: [tcp(81, [nsYPort81], onlyFromY)],
  },
  {
    context: CTX_TCP, test: 'should enforce multiple, stacked policies with overlapping podSelectors',
    pods: ['x/a', 'x/b', 'y/a', 'y/b', 'z/a'], ports: [80, 81], protocols: ['TCP'],
    steps: [
      tcp(81, [nsYPort81], onlyFromY),
      tcp(80, [nsYPort81], [['allIngress', 'x/a', false]]),
      tcp(80, [nsYPort81, nsYPort80], onlyFromY, { note: 'after CreatePolicy(allow-client-a-via-ns-selector-80)' }),
    ],
  },
  {
    context: CTX_TCP, test: 'should support allow-all policy',
    pods: ['x/a', 'x/b', 'y/a'], ports: [80, 81], protocols: ['TCP'],
    steps: [80, 81].map((p) => tcp(p, [ingressPolicy('x', 'allow-all', {}, [{}])], [])),
  },
  {
    context: CTX_TCP, test: 'should allow ingress access on one named port',
    pods: ['x/a', 'x/b', 'y/a'], ports: [80, 81], protocols: ['TCP'],
    steps: [
      tcp(81, [ingressPolicy('x', 'allow-all', {}, [{ ports: [{ port: 'serve-81-tcp' }] }])], []),
      tcp(80, [ingressPolicy('x', 'allow-all', {}, [{ ports: [{ port: 'serve-81-tcp' }] }])], [['peer', ANY, X, false]]),
    ],
  },
  {
    context: CTX_TCP, test: 'should allow ingress access from namespace on one named port',
    pods: ['x/a', 'x/b', 'y/a', 'z/a'], ports: [80, 81], protocols: ['TCP'],
    steps: (() => {
      const p = ingressPolicy('x', 'allow-client-a-via-ns-selector-80', { pod: 'a' }, [{ from: [{ namespaceSelector: nsIs('y') }], ports: [{ port: 'serve-80-tcp', protocol: 'TCP' }] }]);
      return [tcp(80, [p], [['peer', X, XA, false], ['peer', Z, XA, false]]), tcp(81, [p], [['allIngress', 'x/a', false]])];
    })(),
  },
  {
    context: CTX_TCP, test: 'should allow egress access on one named port',
    pods: ['x/a', 'y/a'], ports: [80, 81], protocols: ['TCP'],
    steps: (() => {
      const p = egressPolicy('x', 'allow-egress', {}, [{ ports: [{ port: 'serve-80-tcp' }] }]);
      return [tcp(80, [p], []), tcp(81, [p], [['peer', X, ANY, false]])];
    })(),
  },
  {
    context: CTX_TCP, test: 'should enforce updated policy',
    pods: ['x/a', 'y/a'], ports: [81], protocols: ['TCP'],
    steps: [
      tcp(81, [ingressPolicy('x', 'allow-all-mutate-to-deny-all', {}, [{}])], []),
      tcp(81, [ingressPolicy('x', 'allow-all-mutate-to-deny-all', {}, [])], [['peer', ANY, X, false]], { note: 'after UpdatePolicy: spec.ingress = []' }),
    ],
  },
  {
    context: CTX_TCP, test: 'should allow ingress access from updated namespace',
    pods: ['x/a', 'y/a'], ports: [80], protocols: ['TCP'],
    steps: (() => {
      const p = ingressPolicy('x', 'allow-client-a-via-ns-selector', { pod: 'a' }, [{ from: [{ namespaceSelector: { matchLabels: { ns2: 'updated' } } }] }]);
      return [
        tcp(80, [p], [['allIngress', 'x/a', false]]),
        tcp(80, [p], [['allIngress', 'x/a', false], ['peer', Y, ANY, true]], { namespaceLabels: { y: { ns2: 'updated' } }, note: 'after AddNamespaceLabel(y, ns2=updated)' }),
      ];
    })(),
  },
  {
    context: CTX_TCP, test: 'should allow ingress access from updated pod',
    pods: ['x/a', 'x/b'], ports: [80], protocols: ['TCP'],
    steps: (() => {
      const p = ingressPolicy('x', 'allow-client-a-via-pod-selector', { pod: 'a' }, [{ from: [{ podSelector: { matchLabels: { pod: 'b', pod2: 'updated' } } }] }]);
      return [
        tcp(80, [p], [['allIngress', 'x/a', false]]),
        tcp(80, [p], [['allIngress', 'x/a', false], ['pair', 'x/b', 'x/a', true]], { podLabels: { 'x/b': { pod: 'b', pod2: 'updated' } }, note: 'after AddPodLabels(x/b, pod=b pod2=updated)' }),
      ];
    })(),
  },
  {
    context: CTX_TCP, test: 'should deny ingress from pods on other namespaces',
    pods: ['x/a', 'x/b', 'y/a', 'z/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [np('x', 'deny-empty-policy', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: {} } }] }] })], [['peer', Y, X, false], ['peer', Z, X, false]])],
  },
  {
    context: CTX_TCP, test: 'should deny ingress access to updated pod',
    pods: ['x/a', 'y/a'], ports: [80], protocols: ['TCP'],
    steps: (() => {
      const p = np('x', 'deny-ingress-via-label-selector', { podSelector: { matchLabels: { target: 'isolated' } }, policyTypes: ['Ingress'], ingress: [] });
      return [
        tcp(80, [p], []),
        tcp(80, [p], [['allIngress', 'x/a', false]], { podLabels: { 'x/a': { pod: 'a', target: 'isolated' } }, note: 'after AddPodLabels(x/a, target=isolated)' }),
      ];
    })(),
  },
  {
    context: CTX_TCP, test: 'should deny egress from pods based on PodSelector',
    pods: ['x/a', 'x/b', 'y/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [np('x', 'deny-egress-pod-a', { podSelector: podIs('a'), policyTypes: ['Egress'], egress: [] })], [['allEgress', 'x/a', false]])],
  },
  {
    context: CTX_TCP, test: 'should deny egress from all pods in a namespace',
    pods: ['x/a', 'x/b', 'y/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [np('x', 'deny-egress-ns-x', { podSelector: {}, policyTypes: ['Egress'], egress: [] })], [['peer', X, ANY, false]])],
  },
  {
    context: CTX_TCP, test: 'should work with Ingress, Egress specified together',
    pods: ['x/a', 'x/b', 'x/c', 'y/a'], ports: [80, 81], protocols: ['TCP'],
    steps: (() => {
      const p = np('x', 'allow-client-a-via-pod-selector', {
        podSelector: podIs('a'),
        policyTypes: ['Egress', 'Ingress'],
        ingress: [{ from: [{ podSelector: podIs('b') }] }],
        egress: [{ ports: [{ port: 80 }] }],
      });
      return [
        tcp(80, [p], [['allIngress', 'x/a', false], ['pair', 'x/b', 'x/a', true]]),
        tcp(81, [p], [['allIngress', 'x/a', false], ['allEgress', 'x/a', false], ['pair', 'x/b', 'x/a', true]]),
      ];
    })(),
  },
  {
    context: CTX_TCP, test: 'should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)',
    pods: ['x/a', 'y/a', 'y/b'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [
      egressPolicy('x', 'allow-to-ns-y-pod-a', { pod: 'a' }, [{ to: [{ namespaceSelector: nsIs('y'), podSelector: podIs('a') }] }]),
      ingressPolicy('y', 'allow-from-xa-on-ya-match-selector', { pod: 'a' }, [{ from: [{ namespaceSelector: nsIs('x'), podSelector: podIs('a') }] }]),
      ingressPolicy('y', 'allow-from-xa-on-yb-match-selector', { pod: 'b' }, [{ from: [{ namespaceSelector: nsIs('x'), podSelector: podIs('a') }] }]),
    ], [['peer', XA, ANY, false], ['peer', ANY, { ns: 'y', pod: 'a' }, false], ['peer', XA, { ns: 'y', pod: 'a' }, true], ['peer', ANY, { ns: 'y', pod: 'b' }, false]])],
  },
  {
    context: CTX_TCP, test: 'should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector',
    pods: ['x/a', 'y/a', 'y/b'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [egressPolicy('x', 'allow-to-ns-y-pod-a', { pod: 'a' }, [{ to: [{ namespaceSelector: nsIs('y'), podSelector: podIs('a') }] }])], [['allEgress', 'x/a', false], ['pair', 'x/a', 'y/a', true]])],
  },
  {
    context: CTX_TCP, test: 'should enforce ingress policy allowing any port traffic to a server on a specific protocol',
    pods: ['x/a', 'y/a'], ports: [80], protocols: ['TCP', 'UDP'],
    steps: (() => {
      const p = ingressPolicy('x', 'allow-ingress-by-proto', { pod: 'a' }, [{ ports: [{ protocol: 'TCP' }] }]);
      return [tcp(80, [p], []), { port: 80, protocol: 'UDP', policies: [p], expect: [['peer', ANY, XA, false]] }];
    })(),
  },
  {
    context: CTX_TCP, test: 'should enforce multiple ingress policies with ingress allow-all policy taking precedence',
    pods: ['x/a', 'y/a'], ports: [81], protocols: ['TCP'],
    steps: (() => {
      const only80 = ingressPolicy('x', 'allow-ingress-port-80', {}, [{ ports: [{ port: 80 }] }]);
      return [
        tcp(81, [only80], [['peer', ANY, X, false]]),
        tcp(81, [only80, ingressPolicy('x', 'allow-ingress', {}, [{}])], [], { note: 'after CreatePolicy(allow-ingress)' }),
      ];
    })(),
  },
  {
    context: CTX_TCP, test: 'should enforce multiple egress policies with egress allow-all policy taking precedence',
    pods: ['x/a', 'y/a'], ports: [81], protocols: ['TCP'],
    steps: (() => {
      const only80 = egressPolicy('x', 'allow-egress-port-80', {}, [{ ports: [{ port: 80 }] }]);
      return [
        tcp(81, [only80], [['peer', X, ANY, false]]),
        tcp(81, [only80, egressPolicy('x', 'allow-egress', {}, [{}])], [], { note: 'after CreatePolicy(allow-egress)' }),
      ];
    })(),
  },
  {
    context: CTX_TCP, test: 'should stop enforcing policies after they are deleted',
    pods: ['x/a', 'y/a'], ports: [80], protocols: ['TCP'],
    steps: [
      tcp(80, [denyAllNsX], [['peer', X, ANY, false], ['peer', ANY, X, false]]),
      tcp(80, [], [], { note: 'after cleanNetworkPolicies' }),
    ],
  },
  {
    context: CTX_TCP, test: 'should allow egress access to server in CIDR block',
    pods: ['x/a', 'y/a', 'y/b'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [egressPolicy('x', 'allow-client-a-via-cidr-egress-rule', { pod: 'a' }, [{ to: [{ ipBlock: { cidr: `${POD_IPS['y/b']!}/32` } }] }])], [['allEgress', 'x/a', false], ['pair', 'x/a', 'y/b', true]])],
  },
  {
    context: CTX_TCP, test: 'should enforce except clause while egress access to server in CIDR block',
    pods: ['x/a', 'x/b', 'x/c'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [cidrExceptXb], [['pair', 'x/a', 'x/b', false]])],
  },
  {
    context: CTX_TCP, test: 'should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed',
    pods: ['x/a', 'x/b', 'x/c'], ports: [80], protocols: ['TCP'],
    steps: [
      tcp(80, [cidrExceptXb], [['pair', 'x/a', 'x/b', false]]),
      tcp(80, [egressPolicy('x', 'allow-client-a-via-cidr-egress-rule', { pod: 'a' }, [{ to: [{ ipBlock: { cidr: `${POD_IPS['x/b']!}/32` } }] }])], [['allEgress', 'x/a', false], ['pair', 'x/a', 'x/b', true]], {
        note: 'after UpdatePolicy with the same name: the /32 policy replaces the cidr-with-except one',
      }),
    ],
  },
  {
    context: CTX_TCP, test: 'should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector',
    pods: ['x/a', 'x/b', 'y/a'], ports: [80], protocols: ['TCP'],
    steps: (() => {
      const eg = np('x', 'allow-egress-for-target', { podSelector: podIs('a'), policyTypes: ['Egress'], egress: [{}] });
      return [
        tcp(80, [eg], []),
        tcp(80, [eg, np('x', 'deny-ingress-via-label-selector', { podSelector: podIs('a'), policyTypes: ['Ingress'], ingress: [] })], [['allIngress', 'x/a', false]], { note: 'after CreatePolicy(deny-ingress-via-label-selector)' }),
      ];
    })(),
  },
  {
    context: CTX_TCP, test: "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
    pods: ['x/a', 'y/a'], ports: [81], protocols: ['TCP'],
    steps: [tcp(81, [denyIngressNsX('deny-ingress'), ingressPolicy('x', 'allow-only-sctp-ingress-on-port-81', { pod: 'a' }, [{ ports: [{ port: 81, protocol: 'SCTP' }] }])], [['peer', ANY, X, false]])],
  },
  {
    context: CTX_TCP, test: "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
    pods: ['x/a', 'y/a'], ports: [81], protocols: ['TCP'],
    steps: [tcp(81, [ingressPolicy('x', 'allow-only-sctp-ingress-on-port-80', { pod: 'a' }, [{ ports: [{ port: 80, protocol: 'SCTP' }] }])], [['allIngress', 'x/a', false]])],
  },
  {
    context: CTX_TCP, test: 'should not allow access by TCP when a policy specifies only UDP',
    pods: ['x/a', 'y/a'], ports: [81], protocols: ['TCP'],
    steps: [tcp(81, [ingressPolicy('x', 'allow-only-udp-ingress-on-port-81', { pod: 'a' }, [{ ports: [{ port: 81, protocol: 'UDP' }] }])], [['allIngress', 'x/a', false]])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label',
    pods: ['x/a', 'x/b', 'y/a', 'z/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [ingressPolicy('x', 'allow-client-a-via-ns-selector-for-immutable-ns-label', { pod: 'a' }, [{ from: [{ namespaceSelector: nsIs('y') }] }])], [['peer', X, XA, false], ['peer', Z, XA, false]])],
  },
  {
    context: CTX_TCP, test: 'should enforce policy based on NamespaceSelector with MatchExpressions using default ns label',
    pods: ['x/a', 'x/b', 'y/a', 'z/a'], ports: [80], protocols: ['TCP'],
    steps: [tcp(80, [egressPolicy('x', 'allow-ns-y-match-selector-for-immutable-ns-label', { pod: 'a' }, [{ to: [{ namespaceSelector: nsNotIn('y') }] }])], [['peer', XA, Y, false]])],
  },
  ...trio(CTX_UDP, 'UDP'),
  ...trio(CTX_SCTP, 'SCTP'),
];

export const UPSTREAM_CASES: readonly UpstreamCase[] = TRANSCRIBED.map((c) => ({ file: UPSTREAM_FILE, ...c }));
