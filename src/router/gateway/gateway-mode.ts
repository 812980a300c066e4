// Gateway API mode (--enable-gateway-api): watches Gateways, opens one HTTP server per distinct listener port of our
// Gateways (closing it when its last listener goes), hands each request to the router with the Gateway its Host
// selected, and — on the router's status Lease holder — writes Gateway status. Decisions live in model.ts/status.ts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Informer, type KubeClient, type KubeObject, type ResourceRef } from '../../kube/index.js';
import { statusFingerprint, withTransitionTimes } from '../sources/kube-status.js';
import type { RouterStore } from '../store/store.js';
import { attachesTo, type HTTPRoute, routeKey } from './httproute.js';
import { HTTP_ROUTES, InferenceExtension } from './inference-extension.js';
import {
  type BoundListener,
  CONTROLLER_NAME,
  GATEWAY_CLASS,
  type Gateway,
  gatewayKey,
  listenersByPort,
  routeBindsTo,
  selectListener,
} from './model.js';
import type { GatewayScope } from './scope.js';
import { desiredGatewayClassStatus, desiredGatewayStatus, desiredHttpRouteParents } from './status.js';

export const GATEWAYS: ResourceRef = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  plural: 'gateways',
  kind: 'Gateway',
  namespaced: true,
};

export const GATEWAY_CLASSES: ResourceRef = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  plural: 'gatewayclasses',
  kind: 'GatewayClass',
  namespaced: false,
};

type GatewayClassObject = KubeObject & { spec?: { controllerName?: string } };

export interface GatewayModeOptions {
  client: KubeClient;
  store: RouterStore;
  host: string;
  namespace?: string;
  log: Logger;
  /** Serves one request received by a Gateway listener (the router's normal entry, scoped to that Gateway). */
  serve: (req: IncomingMessage, res: ServerResponse, scope: GatewayScope) => void;
  /** Inference Extension mode: HTTPRoutes with InferencePool backends. */
  inferenceExtension?: boolean;
  rand?: () => number;
  /** True on the replica that holds the router's status Lease. */
  isLeader: () => boolean;
  /** Gateways changed: ModelRoute attachment (and so its status) may have changed. */
  onChange: () => void;
}

type GatewayObject = KubeObject & Gateway;

interface PortServer {
  server: Server;
  listeners: BoundListener[];
}

export class GatewayMode {
  readonly gateways: Informer<GatewayObject>;
  readonly classes: Informer<GatewayClassObject>;
  readonly inference: InferenceExtension | undefined;
  private readonly servers = new Map<number, PortServer>();
  /** Ports that could not be opened, with the reason (reported in listener status). */
  readonly failedPorts = new Map<number, string>();
  private reconciling: Promise<void> = Promise.resolve();
  private statusTimer: ReturnType<typeof setTimeout> | undefined;
  private statusRunning: Promise<void> | undefined;
  private statusAgain = false;
  private stopped = false;
  /** Re-checks status now and then: a newly won Lease or a failed write is caught up without another event. */
  private readonly resync: ReturnType<typeof setInterval>;
  statusWrites = 0;

  constructor(private readonly o: GatewayModeOptions) {
    this.gateways = new Informer<GatewayObject>(o.client, GATEWAYS, { namespace: o.namespace, log: o.log });
    this.classes = new Informer<GatewayClassObject>(o.client, GATEWAY_CLASSES, { log: o.log });
    for (const ev of ['add', 'update'] as const) this.classes.on(ev as 'add', () => this.scheduleStatus());
    const changed = () => {
      this.reconciling = this.reconciling.then(() => this.reconcileListeners());
      o.onChange();
      this.scheduleStatus();
    };
    this.gateways.on('add', changed);
    this.gateways.on('update', (a, b) => {
      if (JSON.stringify(a.spec) !== JSON.stringify(b.spec)) changed();
    });
    this.gateways.on('delete', changed);
    if (o.inferenceExtension)
      this.inference = new InferenceExtension({
        client: o.client,
        store: o.store,
        namespace: o.namespace,
        log: o.log,
        rand: o.rand ?? Math.random,
        onChange: () => this.scheduleStatus(),
      });
    o.store.on('change', () => this.scheduleStatus());
    this.resync = setInterval(() => this.scheduleStatus(), 5000);
    this.resync.unref();
  }

  start(): void {
    this.gateways.start();
    this.classes.start();
    this.inference?.start();
  }

  hasSynced(): boolean {
    return this.gateways.hasSynced() && this.classes.hasSynced() && (this.inference?.hasSynced() ?? true);
  }

  /** Our Gateways (class kthena-router), from the watch cache. */
  list(): Gateway[] {
    return this.gateways.list().filter((g) => g.spec?.gatewayClassName === GATEWAY_CLASS);
  }

  get(key: string): Gateway | undefined {
    const g = this.list().find((x) => gatewayKey(x) === key);
    return g;
  }

  /** Ports currently served, for tests and the debug surface. */
  ports(): number[] {
    return [...this.servers.keys()].sort((a, b) => a - b);
  }

  /** Resolves once the listener set matches the Gateways seen so far. */
  settled(): Promise<void> {
    return this.reconciling;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.statusTimer);
    clearInterval(this.resync);
    await this.gateways.stop();
    await this.classes.stop();
    await this.inference?.stop();
    await this.reconciling;
    await this.statusRunning;
    await Promise.all([...this.servers.values()].map((s) => closeServer(s.server)));
    this.servers.clear();
  }

  private async reconcileListeners(): Promise<void> {
    if (this.stopped) return;
    const want = listenersByPort(this.list());
    for (const [port, s] of this.servers) {
      if (want.has(port)) continue;
      this.servers.delete(port);
      await closeServer(s.server);
      this.o.log.info({ port }, 'gateway: listener port closed');
    }
    for (const port of [...this.failedPorts.keys()]) if (!want.has(port)) this.failedPorts.delete(port);
    for (const [port, listeners] of want) {
      const cur = this.servers.get(port);
      if (cur) {
        cur.listeners = listeners;
        continue;
      }
      const entry: PortServer = { server: this.portServer(port), listeners };
      try {
        await listen(entry.server, port, this.o.host);
        this.servers.set(port, entry);
        this.failedPorts.delete(port);
        this.o.log.info({ port, listeners: listeners.map((l) => `${l.gateway}#${l.listener}`) }, 'gateway: listening');
      } catch (e) {
        const msg = `port ${port} could not be opened: ${(e as Error).message}`;
        this.failedPorts.set(port, msg);
        this.o.log.warn({ port, err: (e as Error).message }, 'gateway: listener port unavailable');
      }
    }
    this.scheduleStatus();
  }

  private portServer(port: number): Server {
    const server = createServer((req, res) => {
      const l = selectListener(this.servers.get(port)?.listeners ?? [], req.headers.host ?? '');
      if (!l) {
        const body = JSON.stringify({ message: 'No matching listener found' });
        res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        return void res.end(body);
      }
      this.o.serve(req, res, this.scopeFor(req, l));
    });
    server.requestTimeout = 0; // streams outlive Node's default; as on the router's own port
    return server;
  }

  private scopeFor(req: IncomingMessage, l: BoundListener): GatewayScope {
    const gateway = this.get(l.gateway);
    const inference = this.inference;
    return {
      gateway: l.gateway,
      binds: (r) => routeBindsTo(r, l.gateway, (k) => this.get(k)),
      inferencePool: inference && gateway ? () => inference.resolve(req, l, gateway) : undefined,
    };
  }

  // ------------------------------------------------------------------ status (Lease holder only)

  scheduleStatus(): void {
    if (this.stopped || !this.o.isLeader()) return;
    if (this.statusRunning) {
      this.statusAgain = true;
      return;
    }
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.statusRunning = this.writeStatus().finally(() => {
        this.statusRunning = undefined;
        if (this.statusAgain) {
          this.statusAgain = false;
          this.scheduleStatus();
        }
      });
    }, 100);
  }

  private async writeStatus(): Promise<void> {
    if (!this.gateways.hasSynced()) {
      this.statusAgain = true;
      return;
    }
    await this.reconciling;
    const routes = this.o.store.rawRoutes();
    const now = new Date().toISOString();
    await this.writeGatewayClassStatus(now);
    const ours = this.list();
    for (const g of ours) {
      if (this.stopped || !this.o.isLeader()) return;
      const inference = this.inference;
      const httpAttached = (listener: string) =>
        inference?.attached({ gateway: gatewayKey(g), listener, port: 0 }, g, true).length ?? 0;
      const desired = desiredGatewayStatus(g, routes, this.failedPorts, httpAttached);
      const current = (g.status ?? {}) as { conditions?: unknown; listeners?: { conditions?: unknown }[] };
      if (fingerprint(desired) === fingerprint(current)) continue;
      const status = {
        ...withTransitionTimes(desired, current, now),
        listeners: desired.listeners.map((l, i) => withTransitionTimes(l, current.listeners?.[i], now)),
      };
      try {
        await this.o.client.patch(GATEWAYS, g.metadata.name, g.metadata.namespace, { status }, 'merge', {
          subresource: 'status',
        });
        this.statusWrites++;
      } catch (e) {
        this.o.log.warn({ gateway: gatewayKey(g), err: (e as Error).message }, 'gateway: status write failed');
        this.statusAgain = true;
      }
    }
    if (this.inference) await this.writeHttpRouteStatus(this.inference, ours, now);
  }

  /** GatewayClasses naming our controller get Accepted (upstream leaves them without status). */
  private async writeGatewayClassStatus(now: string): Promise<void> {
    for (const gc of this.classes.list()) {
      if (this.stopped || !this.o.isLeader()) return;
      const desired = desiredGatewayClassStatus({ metadata: gc.metadata ?? {}, spec: gc.spec });
      if (!desired) continue;
      const current = (gc as { status?: { conditions?: unknown } }).status ?? {};
      if (statusFingerprint(desired) === statusFingerprint(current)) continue;
      try {
        await this.o.client.patch(
          GATEWAY_CLASSES,
          gc.metadata?.name ?? '',
          undefined,
          { status: withTransitionTimes(desired, current, now) },
          'merge',
          { subresource: 'status' },
        );
        this.statusWrites++;
      } catch (e) {
        this.o.log.warn(
          { gatewayClass: gc.metadata?.name, err: (e as Error).message },
          'gateway: class status write failed',
        );
        this.statusAgain = true;
      }
    }
  }

  private async writeHttpRouteStatus(inf: InferenceExtension, ours: Gateway[], now: string): Promise<void> {
    const pools = new Set(inf.pools.list().map((p) => `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name}`));
    for (const r of inf.routes.list()) {
      if (this.stopped || !this.o.isLeader()) return;
      const accepts = (g: Gateway, ref: NonNullable<HTTPRoute['spec']['parentRefs']>[number]) =>
        (g.spec.listeners ?? []).some((l) =>
          attachesTo(
            { ...r, spec: { ...r.spec, parentRefs: [ref] } },
            { gateway: gatewayKey(g), listener: l.name, port: l.port },
            g,
            inf.namespaceLabels,
          ),
        );
      const mine = desiredHttpRouteParents(r, ours, accepts, (k) => pools.has(k), inf.poolPermitted);
      const cur = (r.status ?? {}) as { parents?: { controllerName?: string; conditions?: unknown }[] };
      const curMine = (cur.parents ?? []).filter((p) => p.controllerName === CONTROLLER_NAME);
      if (
        JSON.stringify(mine.map((p) => statusFingerprint(p))) ===
        JSON.stringify(curMine.map((p) => statusFingerprint(p)))
      )
        continue;
      const others = (cur.parents ?? []).filter((p) => p.controllerName !== CONTROLLER_NAME);
      const parents = [...others, ...mine.map((p, i) => withTransitionTimes(p, curMine[i], now))];
      try {
        await this.o.client.patch(
          HTTP_ROUTES,
          r.metadata.name,
          r.metadata.namespace,
          { status: { parents } },
          'merge',
          {
            subresource: 'status',
          },
        );
        this.statusWrites++;
      } catch (e) {
        this.o.log.warn(
          { httpRoute: routeKey(r), err: (e as Error).message },
          'gateway: HTTPRoute status write failed',
        );
        this.statusAgain = true;
      }
    }
  }
}

/** Comparable form: conditions without transition times, listeners likewise. */
function fingerprint(s: { conditions?: unknown; listeners?: { conditions?: unknown }[] }): string {
  const listeners = (Array.isArray(s.listeners) ? s.listeners : []).map((l) => statusFingerprint(l));
  return `${statusFingerprint({ conditions: s.conditions })}|${listeners.join('|')}`;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}
