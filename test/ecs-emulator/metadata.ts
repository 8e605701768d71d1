/**
 * The ECS instance metadata service (100.100.100.200 on a real instance) for one instance of the emulated region,
 * served on 127.0.0.1: `latest/meta-data/…` text answers read from the OpenAPI state (an ENI's MAC and addresses
 * appear `metadataLagMs` after they took effect, as on a real instance), the token API (`PUT latest/api/token` with
 * `X-aliyun-ecs-metadata-token-ttl-seconds`, then `X-aliyun-ecs-metadata-token`; 401 for a bad or expired token,
 * 403 without one in hardened mode), and the instance RAM role's STS credentials.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { EcsState } from './state.js';
import { netmaskOf } from './state.js';

export interface RamRole {
  readonly name: string;
  /** Issues fresh STS credentials (the emulator registers them with the OpenAPI server). */
  issue(): { readonly accessKeyId: string; readonly accessKeySecret: string; readonly securityToken: string; readonly expiration: Date };
}

export class MetadataServer {
  /** Hardened mode: requests without a token are refused (403). */
  requireToken = false;
  ramRole: RamRole | undefined;
  /** Requests served, by path (tests count token and RAM-role fetches). */
  readonly hits: string[] = [];
  /** Fault: the next N requests answer this HTTP status. */
  private failNext: { status: number; times: number } | undefined;
  private readonly tokens = new Map<string, number>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly state: EcsState,
    readonly instanceId: string,
  ) {
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(state: EcsState, instanceId: string): Promise<MetadataServer> {
    const server = createServer();
    const self = new MetadataServer(server, state, instanceId);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      self.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  /** `http://127.0.0.1:PORT` (the client's configurable stand-in for http://100.100.100.200). */
  get url(): string {
    return `http://127.0.0.1:${String((this.server.address() as AddressInfo).port)}`;
  }

  failNextRequests(status: number, times = 1): void {
    this.failNext = { status, times };
  }

  /** Expires every token issued so far (the client must fetch a new one after a 401). */
  expireTokens(): void {
    this.tokens.clear();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => { resolve(); }));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.hits.push(path);
    if (this.failNext !== undefined) {
      const f = this.failNext;
      if (--f.times <= 0) this.failNext = undefined;
      text(res, f.status, 'Injected failure');
      return;
    }
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') {
        text(res, 405, 'Method Not Allowed');
        return;
      }
      const ttl = Number(req.headers['x-aliyun-ecs-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) {
        text(res, 400, 'Bad Request: X-aliyun-ecs-metadata-token-ttl-seconds must be 1..21600');
        return;
      }
      const token = randomBytes(24).toString('base64url');
      this.tokens.set(token, Date.now() + ttl * 1000);
      {
        text(res, 200, token);
        return;
      }
    }
    if (req.method !== 'GET') {
        text(res, 405, 'Method Not Allowed');
        return;
      }
    const token = req.headers['x-aliyun-ecs-metadata-token'];
    if (typeof token === 'string') {
      const until = this.tokens.get(token);
      if (until === undefined || Date.now() >= until) {
        text(res, 401, 'Unauthorized');
        return;
      }
    } else if (this.requireToken) {
      {
        text(res, 403, 'Forbidden');
        return;
      }
    }
    const answer = this.answer(path.replace(/^\/latest\/meta-data\//u, ''));
    if (answer === undefined || !path.startsWith('/latest/meta-data/')) {
        text(res, 404, 'Not Found');
        return;
      }
    text(res, 200, answer);
  }

  private answer(p: string): string | undefined {
    const s = this.state;
    const inst = s.instances.get(this.instanceId);
    if (inst === undefined) return undefined;
    const primary = s.enis.get(inst.primaryEniId);
    const vsw = s.vswitches.get(inst.vSwitchId);
    const simple: Record<string, string | undefined> = {
      'instance-id': inst.id,
      'instance/instance-type': inst.type,
      'region-id': s.regionId,
      'zone-id': inst.zoneId,
      'vpc-id': inst.vpcId,
      'vswitch-id': inst.vSwitchId,
      'vpc-cidr-block': '192.168.0.0/16',
      'vswitch-cidr-block': vsw?.cidr,
      mac: primary?.mac,
      'private-ipv4': primary?.ips.find((x) => x.primary)?.ip,
    };
    if (p in simple) return simple[p];
    const visible = [...s.enis.values()].filter((e) => e.instanceId === inst.id && s.metadataView(e) !== undefined);
    if (p === 'network/interfaces/macs/' || p === 'network/interfaces/macs') return visible.map((e) => `${e.mac}/`).join('\n');
    const m = /^network\/interfaces\/macs\/([0-9a-f:]{17})\/([a-z0-9-]+)$/u.exec(p);
    if (m !== null) {
      const eni = visible.find((e) => e.mac === m[1]);
      const view = eni === undefined ? undefined : s.metadataView(eni);
      const evsw = eni === undefined ? undefined : s.vswitches.get(eni.vSwitchId);
      if (eni === undefined || view === undefined || evsw === undefined) return undefined;
      const fields: Record<string, string> = {
        'network-interface-id': eni.id,
        'vswitch-id': eni.vSwitchId,
        'vpc-id': eni.vpcId,
        'vswitch-cidr-block': evsw.cidr,
        'vpc-cidr-block': '192.168.0.0/16',
        gateway: evsw.gateway,
        netmask: netmaskOf(evsw.cidr),
        'primary-ip-address': eni.ips.find((x) => x.primary)?.ip ?? '',
        'private-ipv4s': JSON.stringify(view.ips),
      };
      return fields[m[2] ?? ''];
    }
    if (p === 'ram/security-credentials/' || p === 'ram/security-credentials') return this.ramRole?.name;
    const r = /^ram\/security-credentials\/([^/]+)$/u.exec(p);
    if (r !== null && this.ramRole !== undefined && r[1] === this.ramRole.name) {
      const c = this.ramRole.issue();
      const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/u, 'Z');
      return JSON.stringify({ AccessKeyId: c.accessKeyId, AccessKeySecret: c.accessKeySecret, Expiration: iso(c.expiration), SecurityToken: c.securityToken, LastUpdated: iso(new Date()), Code: 'Success' }, null, 2);
    }
    return undefined;
  }
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
