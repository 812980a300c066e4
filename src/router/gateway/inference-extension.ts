// Inference Extension mode (--enable-gateway-api-inference-extension): watches HTTPRoutes, InferencePools and
// Namespaces; keeps one synthesized ModelServer per pool in the store; resolves a request on a Gateway listener to
// an HTTPRoute rule and an InferencePool (errors from upstream's catalogue); computes HTTPRoute status.
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { Informer, type KubeClient, type KubeObject, NAMESPACES, type ResourceRef } from '../../kube/index.js';
import { errors } from '../errors.js';
import type { RouterStore } from '../store/store.js';
import { attachesTo, type HTTPRoute, pickPool, routeKey, selectHttpRoute } from './httproute.js';
import type { BoundListener, Gateway } from './model.js';
import { type InferencePool, poolAsServer, poolKey, poolServerName } from './pool-server.js';
import { REFERENCE_GRANTS, type ReferenceGrant, referencePermitted } from './refgrant.js';
import type { PoolTarget } from './scope.js';

export const HTTP_ROUTES: ResourceRef = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  plural: 'httproutes',
  kind: 'HTTPRoute',
  namespaced: true,
};
export const INFERENCE_POOLS: ResourceRef = {
  group: 'inference.networking.k8s.io',
  version: 'v1',
  plural: 'inferencepools',
  kind: 'InferencePool',
  namespaced: true,
};

type Obj<T> = KubeObject & T;

export class InferenceExtension {
  readonly routes: Informer<Obj<HTTPRoute>>;
  readonly pools: Informer<Obj<InferencePool>>;
  readonly namespaces: Informer<KubeObject>;
  readonly grants: Informer<Obj<ReferenceGrant>>;

  constructor(
    private readonly o: {
      client: KubeClient;
      store: RouterStore;
      namespace?: string;
      log: Logger;
      rand: () => number;
      onChange: () => void;
    },
  ) {
    const io = { namespace: o.namespace, log: o.log };
    this.routes = new Informer<Obj<HTTPRoute>>(o.client, HTTP_ROUTES, io);
    this.pools = new Informer<Obj<InferencePool>>(o.client, INFERENCE_POOLS, io);
    this.namespaces = new Informer<KubeObject>(o.client, NAMESPACES, { log: o.log });
    this.grants = new Informer<Obj<ReferenceGrant>>(o.client, REFERENCE_GRANTS, io);
    const upsertPool = (p: Obj<InferencePool>) => {
      o.store.upsert(poolAsServer(p));
      o.onChange();
    };
    this.pools.on('add', upsertPool);
    this.pools.on('update', (a, b) => {
      if (JSON.stringify(a.spec) !== JSON.stringify(b.spec)) upsertPool(b);
    });
    this.pools.on('delete', (p) => {
      o.store.remove('ModelServer', `${p.metadata?.namespace ?? 'default'}/${poolServerName(p.metadata?.name ?? '')}`);
      o.onChange();
    });
    for (const ev of ['add', 'update', 'delete'] as const) {
      this.routes.on(ev as 'add', () => o.onChange());
      this.namespaces.on(ev as 'add', () => o.onChange());
      this.grants.on(ev as 'add', () => o.onChange());
    }
  }

  private informers(): Informer<KubeObject>[] {
    return [this.routes, this.pools, this.namespaces, this.grants] as Informer<KubeObject>[];
  }

  start(): void {
    for (const i of this.informers()) i.start();
  }

  hasSynced(): boolean {
    return this.informers().every((i) => i.hasSynced());
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers().map((i) => i.stop()));
  }

  namespaceLabels = (ns: string): Record<string, string> | undefined =>
    this.namespaces.list().find((n) => n.metadata?.name === ns)?.metadata?.labels ?? undefined;

  /** Whether an HTTPRoute in `routeNs` may use InferencePool `ns/name` (a ReferenceGrant when the namespaces differ). */
  poolPermitted = (routeNs: string, ns: string, name: string): boolean =>
    referencePermitted(
      this.grants.list(),
      { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: routeNs },
      { group: 'inference.networking.k8s.io', kind: 'InferencePool', namespace: ns, name },
    );

  /** HTTPRoutes attached to this listener of `g` (`anyPort`: match the listener by name only). */
  attached(l: BoundListener, g: Gateway, anyPort = false): HTTPRoute[] {
    const port = anyPort ? (g.spec.listeners.find((x) => x.name === l.listener)?.port ?? 0) : l.port;
    return this.routes.list().filter((r) => attachesTo(r, { ...l, port }, g, this.namespaceLabels));
  }

  /** The InferencePool target for a request on listener `l`, undefined when no HTTPRoute matches; throws pool errors. */
  resolve(req: IncomingMessage, l: BoundListener, g: Gateway): PoolTarget | undefined {
    const url = new URL(req.url ?? '/', 'http://x');
    const sel = selectHttpRoute(this.attached(l, g), {
      host: req.headers.host ?? '',
      path: url.pathname,
      method: req.method ?? 'GET',
      header: (n) => {
        const v = req.headers[n];
        return Array.isArray(v) ? v.join(',') : v;
      },
      query: url.searchParams,
    });
    if (!sel) return undefined;
    const httpRoute = routeKey(sel.route);
    const ref = pickPool(sel.backends, this.o.rand);
    if (!ref) throw errors.noInferencePoolBackend(httpRoute);
    const routeNs = sel.route.metadata.namespace ?? 'default';
    const ns = ref.namespace ?? routeNs;
    const key = `${ns}/${ref.name}`;
    // Gateway API: a reference no ReferenceGrant permits is an invalid backend, and its requests get 500.
    if (!this.poolPermitted(routeNs, ns, ref.name)) throw errors.referenceNotPermitted(httpRoute, key);
    const pool = this.pools.list().find((p) => poolKey(p as InferencePool) === key);
    if (!pool) throw errors.inferencePoolNotFound(key);
    if (!pool.spec?.targetPorts?.length) throw errors.inferencePoolNoPorts(key);
    const serverKey = `${ns}/${poolServerName(ref.name)}`;
    if (!this.o.store.view.endpointsByServer.get(serverKey)?.length) throw errors.inferencePoolNoPods(key);
    return { serverKey, httpRoute, inferencePool: key };
  }
}
