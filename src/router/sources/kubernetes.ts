// --kubeconfig / in-cluster: ModelRoute, ModelServer, ExternalModelProvider and Pods from the Kubernetes API,
// through src/kube Informers, into the same RouterStore the file source feeds. Objects pass the same validation and
// defaulting as manifests (loadManifests); an invalid object is skipped with a logged reason (and a status
// condition). Only Ready pods with a podIP become endpoints; the ModelServer's workloadPort gives the port.
// One replica (the Lease holder) writes ModelRoute/ModelServer status, and only when it differs from what is stored.

import { hostname } from 'node:os';
import type { Logger } from 'pino';
import {
  type Clock,
  EXTERNAL_MODEL_PROVIDERS,
  Informer,
  type KubeClient,
  type KubeObject,
  LeaderElector,
  MODEL_ROUTES,
  MODEL_SERVERS,
  PODS,
  type ResourceRef,
  realClock,
  sleep,
} from '../../kube/index.js';
import { DEMAND_ANNOTATION } from '../policy/scale-from-zero.js';
import type { EndpointSpec, ModelRoute, ModelServer } from '../store/resources.js';
import type { RouterStore } from '../store/store.js';
import type { RouterMetrics } from '../telemetry/metrics.js';
import {
  type Condition,
  desiredRouteStatus,
  desiredServerStatus,
  statusFingerprint,
  withTransitionTimes,
} from './kube-status.js';
import { type ExternalValidator, loadManifests } from './manifests.js';

export interface KubeSourceOptions {
  client: KubeClient;
  /** Watch one namespace only; default all namespaces. */
  namespace?: string;
  /** Write ModelRoute/ModelServer status (behind leader election). Default true. */
  writeStatus?: boolean;
  /** Namespace of the `kthena-router` Lease; default POD_NAMESPACE or `default`. */
  leaseNamespace?: string;
  leaseName?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Coalescing delay between a change and the status pass it triggers. Default 100 ms. */
  statusDelayMs?: number;
  clock?: Clock;
  log?: Logger;
  metrics?: RouterMetrics;
  validate?: ExternalValidator;
  /** Gateway attachment of a ModelRoute with parentRefs, for its status (src/router/gateway). */
  routeAttachment?: (route: ModelRoute) => Condition | undefined;
  /** Called when this replica starts holding the status Lease (other status writers catch up at once). */
  onStartedLeading?: () => void;
}

interface Pod extends KubeObject {
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    startTime?: string;
    conditions?: { type: string; status: string }[];
  };
}

type Crd = KubeObject & { spec?: unknown; status?: unknown };

/** A pod is an endpoint when it is Running, Ready=True, has an IP and is not being deleted (reference §2.4). */
export function podEndpoint(pod: Pod): EndpointSpec | undefined {
  const md = pod.metadata;
  const st = pod.status;
  if (!md?.name || md.deletionTimestamp || !st?.podIP || st.phase !== 'Running') return undefined;
  if (!st.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return undefined;
  return {
    namespace: md.namespace ?? 'default',
    name: md.name,
    address: st.podIP,
    labels: { ...(md.labels ?? {}) },
    ready: true,
    nodeName: pod.spec?.nodeName,
    phase: st.phase,
    startTime: st.startTime,
  };
}

/** What routing depends on; status-only updates (including our own writes) do not touch the store. */
const routingShape = (o: Crd) =>
  JSON.stringify([o.spec, o.metadata?.labels, o.metadata?.annotations, o.metadata?.generation]);

const sameEndpoint = (a: EndpointSpec, b: EndpointSpec) =>
  a.address === b.address && a.nodeName === b.nodeName && JSON.stringify(a.labels) === JSON.stringify(b.labels);

export class KubeSource {
  readonly routes: Informer<Crd>;
  readonly servers: Informer<Crd>;
  readonly providers: Informer<Crd>;
  readonly pods: Informer<Pod>;
  /** Objects rejected by validation: `Kind/ns/name` → reasons. */
  readonly invalid = new Map<string, string[]>();
  private readonly endpoints = new Map<string, EndpointSpec>();
  private readonly clock: Clock;
  private readonly stopper = new AbortController();
  private leading: AbortSignal | undefined;
  private statusTimer: ReturnType<Clock['setTimeout']> | undefined;
  private statusPass: Promise<void> | undefined;
  private statusAgain = false;
  /** Status we wrote and the resourceVersion we wrote it against, until the watch shows the result. */
  private readonly written = new Map<string, { fromRv: string; fp: string }>();
  private election: Promise<void> | undefined;
  /** Status writes performed and status passes completed (for tests and the debug surface). */
  statusWrites = 0;
  statusPasses = 0;

  constructor(
    private readonly store: RouterStore,
    private readonly opts: KubeSourceOptions,
  ) {
    this.clock = opts.clock ?? realClock;
    const io = { namespace: opts.namespace, clock: opts.clock, log: opts.log };
    this.routes = new Informer<Crd>(opts.client, MODEL_ROUTES, io);
    this.servers = new Informer<Crd>(opts.client, MODEL_SERVERS, io);
    this.providers = new Informer<Crd>(opts.client, EXTERNAL_MODEL_PROVIDERS, io);
    this.pods = new Informer<Pod>(opts.client, PODS, io);
    this.wireCrd(this.routes, 'ModelRoute');
    this.wireCrd(this.servers, 'ModelServer');
    this.wireCrd(this.providers, 'ExternalModelProvider');
    this.pods.on('add', (p) => this.onPod(p));
    this.pods.on('update', (_o, p) => this.onPod(p));
    this.pods.on('delete', (p) => this.dropPod(`${p.metadata?.namespace ?? 'default'}/${p.metadata?.name}`));
    store.on('change', () => this.scheduleStatus());
  }

  /** When demand was last written per ModelServer, so a burst of held requests writes once. */
  private readonly demandWritten = new Map<string, number>();

  /**
   * A request is waiting for `serverKey` (namespace/name) to scale from zero: stamp the ModelServer's demand
   * annotation, which the autoscaler watches. Any router replica may write it (no Lease: demand is idempotent), at
   * most once per 2 s per ModelServer; a failed write is logged and retried by the next waiting request.
   */
  signalDemand(serverKey: string): void {
    const now = this.clock.now();
    if (now - (this.demandWritten.get(serverKey) ?? 0) < 2000) return;
    this.demandWritten.set(serverKey, now);
    const slash = serverKey.indexOf('/');
    const patch = { metadata: { annotations: { [DEMAND_ANNOTATION]: new Date(now).toISOString() } } };
    this.opts.client
      .patch(MODEL_SERVERS, serverKey.slice(slash + 1), serverKey.slice(0, slash), patch, 'merge')
      .catch((e: unknown) => {
        this.demandWritten.delete(serverKey);
        this.opts.log?.warn({ server: serverKey, err: (e as Error).message }, 'kubernetes source: demand write failed');
      });
  }

  start(): void {
    for (const inf of this.informers()) inf.start();
    if (this.opts.writeStatus ?? true) this.election = this.campaign();
  }

  hasSynced(): boolean {
    return this.informers().every((i) => i.hasSynced());
  }

  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.informers().map((i) => i.waitForSync(signal)));
  }

  async stop(): Promise<void> {
    this.stopper.abort(new Error('kubernetes source stopped'));
    this.clock.clearTimeout(this.statusTimer);
    await Promise.all(this.informers().map((i) => i.stop()));
    await this.election;
    await this.statusPass;
  }

  /** No status pass running, scheduled or owed (tests wait for this instead of sleeping). */
  statusIdle(): boolean {
    return !this.statusTimer && !this.statusPass && !this.statusAgain;
  }

  isLeader(): boolean {
    return this.leading !== undefined && !this.leading.aborted;
  }

  private informers(): Informer<KubeObject>[] {
    return [this.routes, this.servers, this.providers, this.pods] as Informer<KubeObject>[];
  }

  // ------------------------------------------------------------------ resources → store

  private wireCrd(inf: Informer<Crd>, kind: 'ModelRoute' | 'ModelServer' | 'ExternalModelProvider'): void {
    inf.on('add', (o) => this.applyCrd(kind, o));
    inf.on('update', (old, o) => {
      if (routingShape(old) === routingShape(o)) this.scheduleStatus();
      else this.applyCrd(kind, o);
    });
    inf.on('delete', (o) => {
      const key = `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`;
      this.invalid.delete(`${kind}/${key}`);
      this.written.delete(`${kind}/${key}`);
      this.store.remove(kind, key);
    });
  }

  private applyCrd(kind: 'ModelRoute' | 'ModelServer' | 'ExternalModelProvider', o: Crd): void {
    const key = `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`;
    const { status: _status, ...rest } = o;
    const { managedFields: _mf, ...meta } = o.metadata ?? {};
    const clean = { ...rest, apiVersion: rest.apiVersion ?? apiVersionFor(kind), kind, metadata: meta };
    const { snapshot, errors } = loadManifests([{ file: kind, text: JSON.stringify(clean) }], this.opts.validate);
    const obj = snapshot.routes[0] ?? snapshot.servers[0] ?? snapshot.providers[0];
    if (errors.length || !obj) {
      // Strip loadManifests' "file#doc Kind ns/name: " prefix; the log line names the object itself.
      const reasons = errors.map((e) => e.slice(e.indexOf(': ') + 2));
      this.invalid.set(`${kind}/${key}`, reasons);
      this.opts.log?.warn({ kind, object: key, errors: reasons }, 'kubernetes source: invalid object skipped');
      this.opts.metrics?.configReloads.inc({ result: 'rejected' });
      // A previously valid version stops routing: what the cluster holds now is invalid.
      this.store.remove(kind, key);
      this.scheduleStatus();
      return;
    }
    this.invalid.delete(`${kind}/${key}`);
    this.store.upsert(obj);
  }

  private onPod(p: Pod): void {
    const key = `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name}`;
    const ep = podEndpoint(p);
    if (!ep) {
      this.dropPod(key);
      return;
    }
    const prev = this.endpoints.get(key);
    if (prev && sameEndpoint(prev, ep)) return; // heartbeat-style updates do not rebuild the store
    this.endpoints.set(key, ep);
    this.store.upsertEndpoint(ep);
  }

  private dropPod(key: string): void {
    if (!this.endpoints.delete(key)) return;
    this.store.remove('Endpoint', key);
  }

  // ------------------------------------------------------------------ status (leader only)

  private async campaign(): Promise<void> {
    const o = this.opts;
    const identity = o.identity ?? `${process.env.POD_NAME ?? hostname()}_${process.pid}`;
    // Losing the lease only stops status writing; routing continues, so campaign again (status is recomputed
    // from scratch each pass, there is no leader-only state to rebuild).
    while (!this.stopper.signal.aborted) {
      const timing = Object.fromEntries(
        Object.entries({
          leaseDurationMs: o.leaseDurationMs,
          renewDeadlineMs: o.renewDeadlineMs,
          retryPeriodMs: o.retryPeriodMs,
        }).filter(([, v]) => v !== undefined),
      );
      let elector: LeaderElector;
      try {
        elector = this.elector(identity, timing);
      } catch (e) {
        // Bad timing options: status writing is off, routing goes on.
        o.log?.error(
          { err: (e as Error).message },
          'kubernetes source: leader election misconfigured; no status writes',
        );
        return;
      }
      try {
        await elector.run(this.stopper.signal);
      } catch (e) {
        if (this.stopper.signal.aborted) break;
        o.log?.warn({ err: (e as Error).message }, 'kubernetes source: leader election failed; retrying');
      }
      await sleep(this.clock, o.retryPeriodMs ?? 2000, this.stopper.signal, 'router-lease-retry').catch(() => {});
    }
  }

  private elector(identity: string, timing: Record<string, number | undefined>): LeaderElector {
    const o = this.opts;
    return new LeaderElector({
      client: o.client,
      namespace: o.leaseNamespace ?? process.env.POD_NAMESPACE ?? 'default',
      name: o.leaseName ?? 'kthena-router',
      identity,
      ...timing,
      clock: o.clock,
      log: o.log,
      onStartedLeading: (signal) => {
        this.leading = signal;
        this.written.clear();
        this.scheduleStatus();
        o.onStartedLeading?.();
      },
      onStoppedLeading: () => {
        this.leading = undefined;
      },
    });
  }

  /** Recompute statuses (another input, such as the Gateways, changed). */
  scheduleStatus(): void {
    if (!this.isLeader() || this.stopper.signal.aborted) return;
    if (this.statusPass) {
      this.statusAgain = true;
      return;
    }
    if (this.statusTimer) return;
    this.statusTimer = this.clock.setTimeout(
      () => {
        this.statusTimer = undefined;
        this.statusPass = this.writeStatus().finally(() => {
          this.statusPass = undefined;
          this.statusPasses++;
          if (this.statusAgain) {
            this.statusAgain = false;
            this.scheduleStatus();
          }
        });
      },
      this.opts.statusDelayMs ?? 100,
      'router-status',
    );
  }

  /** One pass over every ModelRoute and ModelServer, writing only statuses that differ from the stored ones. */
  private async writeStatus(): Promise<void> {
    if (!this.routes.hasSynced() || !this.servers.hasSynced() || !this.pods.hasSynced()) {
      this.statusAgain = true; // after the initial sync the store's change event would come anyway; be sure
      await sleep(this.clock, 200, this.stopper.signal, 'router-status-sync').catch(() => {});
      return;
    }
    const view = this.store.view;
    const now = new Date(this.clock.now()).toISOString();
    const routes = new Map(this.store.rawRoutes().map((r) => [keyMeta(r), r]));
    const jobs: { ref: ResourceRef; kind: string; obj: Crd; desired: { conditions: any[] } }[] = [];
    for (const obj of this.routes.list()) {
      const key = `${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.name}`;
      const invalid = this.invalid.get(`ModelRoute/${key}`);
      const route = routes.get(key) ?? asRoute(obj);
      jobs.push({
        ref: MODEL_ROUTES,
        kind: 'ModelRoute',
        obj,
        desired: desiredRouteStatus(route, invalid, view, this.opts.routeAttachment?.(route)),
      });
    }
    for (const obj of this.servers.list()) {
      const key = `${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.name}`;
      const invalid = this.invalid.get(`ModelServer/${key}`);
      const server = view.servers.get(key) ?? asServer(obj);
      jobs.push({ ref: MODEL_SERVERS, kind: 'ModelServer', obj, desired: desiredServerStatus(server, invalid, view) });
    }
    for (const j of jobs) {
      if (!this.isLeader()) return;
      const md = j.obj.metadata ?? {};
      const id = `${j.kind}/${md.namespace ?? 'default'}/${md.name}`;
      const fp = statusFingerprint(j.desired);
      if (statusFingerprint(j.obj.status) === fp) {
        this.written.delete(id);
        continue;
      }
      const w = this.written.get(id);
      // Already written against this very version: the watch has not delivered our write yet.
      if (w && w.fp === fp && w.fromRv === md.resourceVersion) continue;
      const status = withTransitionTimes(j.desired, j.obj.status, now);
      try {
        await this.opts.client.patch(j.ref, md.name ?? '', md.namespace, { status }, 'merge', {
          subresource: 'status',
          signal: this.leading,
        });
        this.statusWrites++;
        this.written.set(id, { fromRv: md.resourceVersion ?? '', fp });
      } catch (e) {
        if (this.stopper.signal.aborted || !this.isLeader()) return;
        this.opts.log?.warn({ object: id, err: (e as Error).message }, 'kubernetes source: status write failed');
        this.statusAgain = true; // retried on the next pass
      }
    }
  }
}

const keyMeta = (o: { metadata: { namespace?: string; name: string } }) =>
  `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;

function asRoute(o: Crd): ModelRoute {
  return {
    kind: 'ModelRoute',
    metadata: { ...(o.metadata as ModelRoute['metadata']) },
    spec: { rules: [], ...(o.spec as object) } as ModelRoute['spec'],
  };
}

function asServer(o: Crd): ModelServer {
  return {
    kind: 'ModelServer',
    metadata: { ...(o.metadata as ModelServer['metadata']) },
    spec: (o.spec ?? {}) as ModelServer['spec'],
  };
}

function apiVersionFor(_kind: string): string {
  return 'networking.serving.volcano.sh/v1alpha1';
}
