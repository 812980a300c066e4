// kthena controller-manager runtime: health/readiness/metrics HTTP, optional Lease leader election, and the
// controllers (modelserving, modelbooster, autoscaler) started on leadership and stopped on its loss or on shutdown.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { KubeClient } from '../kube/client.js';
import { type Clock, realClock } from '../kube/clock.js';
import { EventRecorder } from '../kube/events.js';
import { Informer } from '../kube/informer.js';
import { LeaderElector } from '../kube/leader.js';
import { AUTOSCALING_POLICIES, type KubeObject, MODEL_SERVERS } from '../kube/resource.js';
import { WorkQueue, type WorkQueueMetrics } from '../kube/workqueue.js';
import { AutoscalerController, type UnitDecision } from './autoscaler/index.js';
import { servedResources, startModelBooster } from './modelbooster/start.js';
import {
  BY_MODELSERVING,
  CHILD_SELECTOR,
  type ControllerMetrics,
  ModelServingController,
  modelServingIndex,
  REFS,
} from './modelserving/controller.js';
import type { ResourceRefLike } from './modelserving/io.js';
import { isNotFound } from './modelserving/io.js';
import { LWS_REF, LwsController } from './modelserving/lws-controller.js';
import { webhookConfigurations } from './webhooks/configurations.js';
import { startWebhookServer, type WebhookServer } from './webhooks/server.js';

export const CONTROLLER_NAMES = ['modelserving', 'modelbooster', 'autoscaler'] as const;

export interface ControllerManagerOptions {
  client: KubeClient;
  log: Logger;
  /** workers per controller (upstream --workers, default 5) */
  workers?: number;
  /** watch only this namespace (default: all) */
  namespace?: string;
  /** `*`, `name`, `-name` list like upstream's --controllers */
  controllers?: string;
  leaderElect?: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** health + metrics port (0 = ephemeral) */
  port?: number;
  host?: string;
  clock?: Clock;
  /** informer resync (ms) — a safety net, not a correctness requirement */
  resyncMs?: number;
  /** autoscaler pass period (upstream --autoscaling-sync-period-seconds, default 15 s) */
  autoscalingSyncPeriodMs?: number;
  /** namespace of the controllers' ConfigMaps (model-booster-controller-config); default: leaseNamespace */
  configNamespace?: string;
  /** serve the ModelServing admission webhooks (on every replica, leader or not) */
  webhook?: {
    port?: number;
    host?: string;
    cert?: string;
    key?: string;
    /**
     * Register the webhooks with the API server (Validating/MutatingWebhookConfiguration pointing at this process,
     * removed again on close). For the local control plane, which calls webhooks by URL.
     */
    register?: boolean;
  };
}

export interface RunningControllerManager {
  /** http://host:port of /healthz, /readyz, /metrics */
  url: string;
  /** base URL of the admission webhooks, when enabled */
  webhookUrl?: string;
  /** Serves a renewed webhook certificate without a restart (self-managed certificates, webhooks/rotation.ts). */
  setWebhookCertificate(cert: string, key: string): void;
  isLeader(): boolean;
  ready(): boolean;
  metrics: Registry;
  close(): Promise<void>;
}

/** Resolves upstream's --controllers syntax: `*` all, `a,b` only those, `-a` all but a. Unknown names are errors. */
export function enabledControllers(spec: string | undefined, known: readonly string[] = CONTROLLER_NAMES): string[] {
  const parts = (spec ?? '*')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const on = new Set<string>();
  const off = new Set<string>();
  let all = parts.length === 0;
  for (const p of parts) {
    const name = p.replace(/^[+-]/, '');
    if (p === '*') all = true;
    else if (!known.includes(name))
      throw new Error(`unknown controller ${JSON.stringify(name)} (known: ${known.join(', ')})`);
    else if (p.startsWith('-')) off.add(name);
    else on.add(name);
  }
  if (on.size === 0) all = true;
  const out = known.filter((n) => (all || on.has(n)) && !off.has(n));
  return out.length > 0 ? out : [...known];
}

const PODGROUP_CRD = 'podgroups.scheduling.volcano.sh';
const CRDS: ResourceRefLike = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

/** Is the Volcano PodGroup CRD served, and does its schema know spec.subGroupPolicy (Volcano ≥ 1.14)? */
export async function detectPodGroupSupport(client: KubeClient): Promise<{ served: boolean; subGroupPolicy: boolean }> {
  try {
    const crd = await client.get<{
      spec?: { versions?: { name: string; served?: boolean; schema?: { openAPIV3Schema?: any } }[] };
    }>(CRDS, PODGROUP_CRD);
    const v = crd.spec?.versions?.find((x) => x.name === 'v1beta1' && x.served !== false);
    if (!v) return { served: false, subGroupPolicy: false };
    const props = v.schema?.openAPIV3Schema?.properties?.spec?.properties ?? {};
    return { served: true, subGroupPolicy: 'subGroupPolicy' in props };
  } catch (err) {
    if (isNotFound(err)) return { served: false, subGroupPolicy: false };
    throw err;
  }
}

/** Is leaderworkerset.x-k8s.io/v1 LeaderWorkerSet served (the LWS adapter runs only then)? */
export async function detectLwsSupport(client: KubeClient): Promise<boolean> {
  try {
    const list = await client.request<{ resources?: { name: string; kind: string }[] }>({
      method: 'GET',
      path: '/apis/leaderworkerset.x-k8s.io/v1',
    });
    return (list?.resources ?? []).some((r) => r.name === 'leaderworkersets' && r.kind === 'LeaderWorkerSet');
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Are policy/v1 PodDisruptionBudgets served (every Kubernetes ≥ 1.21, and `kthena cluster`)? */
export async function detectPdbSupport(client: KubeClient): Promise<boolean> {
  try {
    const list = await client.request<{ resources?: { name: string }[] }>({ method: 'GET', path: '/apis/policy/v1' });
    return (list?.resources ?? []).some((r) => r.name === 'poddisruptionbudgets');
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

const WEBHOOK_REFS = {
  validating: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    plural: 'validatingwebhookconfigurations',
    kind: 'ValidatingWebhookConfiguration',
    namespaced: false,
  },
  mutating: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    plural: 'mutatingwebhookconfigurations',
    kind: 'MutatingWebhookConfiguration',
    namespaced: false,
  },
} as const;

/** Creates or replaces upstream's two webhook configurations so they point at `url`; returns how to undo it. */
export async function registerWebhooks(
  client: KubeClient,
  url: string,
  log: Logger,
): Promise<{ remove(): Promise<void> }> {
  // Ignore, not upstream's Fail: this registration points at one process on loopback. A manager that is SIGKILLed
  // cannot remove it, and with Fail every write of these kinds would be refused until a manager comes back; with
  // Ignore they are admitted (the CRD schema still applies) and validated again once one is.
  const configs = webhookConfigurations(url, undefined, 'Ignore');
  for (const which of ['validating', 'mutating'] as const) {
    const ref = WEBHOOK_REFS[which];
    const body = configs[which];
    try {
      const cur = await client.get<KubeObject>(ref, body.metadata.name);
      await client.replace(ref, {
        ...body,
        metadata: { ...body.metadata, resourceVersion: cur.metadata?.resourceVersion },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await client.create(ref, body);
    }
  }
  log.info({ url }, 'admission webhooks registered with the API server');
  return {
    async remove() {
      for (const which of ['validating', 'mutating'] as const) {
        await client.delete(WEBHOOK_REFS[which], configs[which].metadata.name).catch(() => undefined);
      }
    },
  };
}

export class ManagerMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'kthena_controller_reconcile_total',
    help: 'Reconciles by controller and result (success, requeue, skipped, error).',
    labelNames: ['controller', 'result'],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'kthena_controller_reconcile_errors_total',
    help: 'Reconciles that failed and were re-queued with back-off.',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'kthena_controller_reconcile_duration_seconds',
    help: 'Time spent in one reconcile, API writes included.',
    labelNames: ['controller'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly api = new Counter({
    name: 'kthena_controller_api_requests_total',
    help: 'API writes issued by controllers, by verb, resource and outcome.',
    labelNames: ['controller', 'verb', 'resource', 'outcome'],
    registers: [this.registry],
  });
  readonly depth = new Gauge({
    name: 'kthena_controller_workqueue_depth',
    help: 'Keys waiting in the work queue.',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  readonly autoscalerLastPass = new Gauge({
    name: 'kthena_autoscaler_last_pass_timestamp_seconds',
    help: 'When the autoscaler last finished a pass over all policies (alert when it stops moving).',
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'kthena_controller_manager_leader',
    help: '1 while this instance holds the leader Lease (always 1 without leader election).',
    registers: [this.registry],
  });

  // controller-runtime's names beside ours, so the community's controller-runtime dashboards work unchanged.
  readonly crReconciles = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller (controller-runtime convention).',
    labelNames: ['controller', 'result'],
    registers: [this.registry],
  });
  readonly crErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller (controller-runtime convention).',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  readonly crTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller (controller-runtime convention).',
    labelNames: ['controller'],
    buckets: [
      0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75,
      2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
    ],
    registers: [this.registry],
  });
  // client-go's workqueue metrics, label `name` = the queue (controller) name.
  readonly wqDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue.',
    labelNames: ['name'],
    registers: [this.registry],
  });
  readonly wqAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue.',
    labelNames: ['name'],
    registers: [this.registry],
  });
  readonly wqRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue.',
    labelNames: ['name'],
    registers: [this.registry],
  });
  readonly wqWait = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested.',
    labelNames: ['name'],
    buckets: WORKQUEUE_BUCKETS,
    registers: [this.registry],
  });
  readonly wqWork = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
    labelNames: ['name'],
    buckets: WORKQUEUE_BUCKETS,
    registers: [this.registry],
  });
  readonly autoscalerReplicas = new Gauge({
    name: 'kthena_autoscaler_replicas',
    help: "The autoscaler's last decision per target: current, recommended and desired replicas.",
    labelNames: ['policy', 'target', 'kind'],
    registers: [this.registry],
  });
  readonly autoscalerScaleEvents = new Counter({
    name: 'kthena_autoscaler_scale_decisions_total',
    help: 'Decisions that changed a target’s replicas, by direction (up, down).',
    labelNames: ['policy', 'target', 'direction'],
    registers: [this.registry],
  });
  /** ModelServing / ModelBooster objects' readiness, read from the informers' caches at scrape time. */
  readonly readiness: { modelServings?: () => ModelServingReadiness[]; modelBoosters?: () => ModelBoosterReadiness[] } =
    {};

  constructor() {
    const readiness = this.readiness;
    new Gauge({
      name: 'kthena_modelserving_replicas',
      help: 'ModelServing serving groups by state: desired (spec), available (Running), updated (on the update revision).',
      labelNames: ['namespace', 'name', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const m of readiness.modelServings?.() ?? []) {
          this.set({ namespace: m.namespace, name: m.name, state: 'desired' }, m.desired);
          this.set({ namespace: m.namespace, name: m.name, state: 'available' }, m.available);
          this.set({ namespace: m.namespace, name: m.name, state: 'updated' }, m.updated);
        }
      },
    });
    new Gauge({
      name: 'kthena_modelbooster_ready',
      help: "1 when the ModelBooster's Active condition is True, else 0.",
      labelNames: ['namespace', 'name'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const b of readiness.modelBoosters?.() ?? [])
          this.set({ namespace: b.namespace, name: b.name }, b.ready ? 1 : 0);
      },
    });
  }

  forController(name: string): ControllerMetrics {
    return {
      reconcile: (result, seconds) => {
        this.reconciles.inc({ controller: name, result });
        if (result === 'error') this.errors.inc({ controller: name });
        this.duration.observe({ controller: name }, seconds);
        // controller-runtime's results are success, error, requeue, requeue_after; a skipped key counts as success.
        this.crReconciles.inc({ controller: name, result: result === 'skipped' ? 'success' : result });
        if (result === 'error') this.crErrors.inc({ controller: name });
        this.crTime.observe({ controller: name }, seconds);
      },
      apiRequest: (verb, resource, ok) =>
        this.api.inc({ controller: name, verb, resource, outcome: ok ? 'ok' : 'error' }),
    };
  }

  workQueue(name: string): WorkQueueMetrics {
    return {
      added: () => this.wqAdds.inc({ name }),
      depth: (n) => this.wqDepth.set({ name }, n),
      waited: (s) => this.wqWait.observe({ name }, s),
      worked: (s) => this.wqWork.observe({ name }, s),
      retried: () => this.wqRetries.inc({ name }),
    };
  }

  autoscalerDecisions(policy: string, decisions: readonly UnitDecision[]): void {
    for (const d of decisions) {
      const target = d.unit.key;
      this.autoscalerReplicas.set({ policy, target, kind: 'current' }, d.current);
      this.autoscalerReplicas.set({ policy, target, kind: 'recommended' }, d.recommended);
      this.autoscalerReplicas.set({ policy, target, kind: 'desired' }, d.desired);
      if (d.desired !== d.current)
        this.autoscalerScaleEvents.inc({ policy, target, direction: d.desired > d.current ? 'up' : 'down' });
    }
  }
}

interface ModelServingReadiness {
  namespace: string;
  name: string;
  desired: number;
  available: number;
  updated: number;
}

interface ModelBoosterReadiness {
  namespace: string;
  name: string;
  ready: boolean;
}

// client-go's workqueue buckets: 10^-8 … 10^1 seconds.
const WORKQUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10];

/** Readiness of ModelServings from the informer cache (status written by the controller). */
function modelServingReadiness(list: readonly any[]): ModelServingReadiness[] {
  return list.map((m) => ({
    namespace: m.metadata?.namespace ?? 'default',
    name: m.metadata?.name ?? '',
    desired: Number(m.spec?.replicas ?? 1),
    available: Number(m.status?.availableReplicas ?? 0),
    updated: Number(m.status?.updatedReplicas ?? 0),
  }));
}

function modelBoosterReadiness(list: readonly any[]): ModelBoosterReadiness[] {
  return list.map((b) => ({
    namespace: b.metadata?.namespace ?? 'default',
    name: b.metadata?.name ?? '',
    ready: ((b.status?.conditions ?? []) as { type?: string; status?: string }[]).some(
      (c) => c.type === 'Active' && c.status === 'True',
    ),
  }));
}

export interface ActiveControllers {
  synced(): boolean;
  stop(): Promise<void>;
}

async function startModelServing(
  o: ControllerManagerOptions,
  metrics: ManagerMetrics,
  signal: AbortSignal,
): Promise<ActiveControllers> {
  const { client, log } = o;
  const clock = o.clock ?? realClock;
  const pg = await detectPodGroupSupport(client);
  log.info({ podGroupCrd: pg.served, subGroupPolicy: pg.subGroupPolicy }, 'modelserving: Volcano PodGroup support');
  const common = { namespace: o.namespace, clock, log, resyncMs: o.resyncMs };
  const child = { ...common, labelSelector: CHILD_SELECTOR, indexers: { [BY_MODELSERVING]: modelServingIndex } };
  const informers = {
    modelServings: new Informer<any>(client, REFS.modelServings, common),
    pods: new Informer<any>(client, REFS.pods, child),
    services: new Informer<any>(client, REFS.services, child),
    controllerRevisions: new Informer<any>(client, REFS.controllerRevisions, child),
    podGroups: pg.served ? new Informer<any>(client, REFS.podGroups, child) : undefined,
    podDisruptionBudgets: (await detectPdbSupport(client))
      ? new Informer<any>(client, REFS.podDisruptionBudgets, child)
      : undefined,
  };
  // The LeaderWorkerSet adapter runs beside the ModelServing controller when the LWS API is served (upstream).
  const lwsServed = await detectLwsSupport(client);
  log.info({ served: lwsServed }, 'modelserving: LeaderWorkerSet API');
  const lwsInformer = lwsServed ? new Informer<any>(client, LWS_REF, common) : undefined;
  const all = [...Object.values(informers), lwsInformer].filter((x): x is Informer<KubeObject> => x !== undefined);
  for (const inf of all) inf.on('error', (err) => log.warn({ err: err.message }, 'informer error'));
  const queue = new WorkQueue<string>({ clock, name: 'modelserving', metrics: metrics.workQueue('modelserving') });
  metrics.readiness.modelServings = () => modelServingReadiness(informers.modelServings.list());
  const ctrl = new ModelServingController({
    client,
    ...informers,
    subGroupPolicySupported: pg.subGroupPolicy,
    queue,
    workers: o.workers,
    now: () => clock.now(),
    log: log.child({ controller: 'modelserving' }),
    metrics: metrics.forController('modelserving'),
  });
  const lwsQueue = lwsInformer
    ? new WorkQueue<string>({ clock, name: 'lws', metrics: metrics.workQueue('lws') })
    : undefined;
  const lws =
    lwsInformer && lwsQueue
      ? new LwsController({
          client,
          leaderWorkerSets: lwsInformer,
          modelServings: informers.modelServings,
          modelServingRef: REFS.modelServings,
          queue: lwsQueue,
          log: log.child({ controller: 'lws' }),
          metrics: metrics.forController('lws'),
        })
      : undefined;
  const depthTimer = setInterval(() => metrics.depth.set({ controller: 'modelserving' }, queue.len()), 1000);
  depthTimer.unref();
  for (const inf of all) inf.start();
  let synced = false;
  const running = (async () => {
    try {
      await Promise.all(all.map((i) => i.waitForSync(signal)));
    } catch {
      return; // stopped before the caches synced
    }
    synced = true;
    log.info({ controller: 'modelserving' }, 'caches synced, starting workers');
    ctrl.enqueueAll();
    lws?.enqueueAll();
    await Promise.all([ctrl.run(signal), lws?.run(signal)]);
  })();
  return {
    synced: () => synced,
    async stop() {
      queue.shutDown();
      lwsQueue?.shutDown();
      await running;
      clearInterval(depthTimer);
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}

/** The autoscaler: one loop over all AutoscalingPolicies (upstream runs it as a single loop too). */
async function startAutoscaler(
  o: ControllerManagerOptions,
  metrics: ManagerMetrics,
  signal: AbortSignal,
): Promise<ActiveControllers> {
  const { client, log } = o;
  const clock = o.clock ?? realClock;
  const served = await servedResources(client, [AUTOSCALING_POLICIES, REFS.modelServings, MODEL_SERVERS]);
  if (!served.has(AUTOSCALING_POLICIES.plural) || !served.has(REFS.modelServings.plural)) {
    // As the ModelBooster controller: nothing to do until the CRDs exist (apply deploy/crds and restart).
    log.warn(
      { controller: 'autoscaler' },
      'autoscaler: CRDs not served, controller idle (apply deploy/crds and restart)',
    );
    return { synced: () => true, stop: async () => {} };
  }
  const common = { namespace: o.namespace, clock, log, resyncMs: o.resyncMs };
  const informers = {
    policies: new Informer<any>(client, AUTOSCALING_POLICIES, common),
    modelServings: new Informer<any>(client, REFS.modelServings, common),
    pods: new Informer<any>(client, REFS.pods, { ...common, labelSelector: CHILD_SELECTOR }),
    // Without ModelServers (router CRDs not installed) there is no scale-from-zero signalling, the rest works.
    modelServers: served.has(MODEL_SERVERS.plural) ? new Informer<any>(client, MODEL_SERVERS, common) : undefined,
  };
  const all = Object.values(informers).filter((i): i is Informer<any> => i !== undefined);
  for (const inf of all) inf.on('error', (err) => log.warn({ err: err.message }, 'informer error'));
  const ctrl = new AutoscalerController({
    client,
    ...informers,
    clock,
    log: log.child({ controller: 'autoscaler' }),
    syncPeriodMs: o.autoscalingSyncPeriodMs,
    metrics: metrics.forController('autoscaler'),
    recorder: new EventRecorder(client, { component: 'kthena-autoscaler', clock, log }),
    onPass: (at) => metrics.autoscalerLastPass.set(at / 1000),
    onDecisions: (policy, decisions) => metrics.autoscalerDecisions(policy, decisions),
  });
  for (const inf of all) inf.start();
  let synced = false;
  const running = (async () => {
    try {
      await Promise.all(all.map((i) => i.waitForSync(signal)));
    } catch {
      return;
    }
    synced = true;
    log.info({ controller: 'autoscaler' }, 'caches synced, starting the autoscaling loop');
    await ctrl.run(signal);
  })();
  return {
    synced: () => synced,
    async stop() {
      await running;
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}

export async function startControllerManager(o: ControllerManagerOptions): Promise<RunningControllerManager> {
  const log = o.log;
  const metrics = new ManagerMetrics();
  const enabled = enabledControllers(o.controllers);
  // Like upstream, the webhook server starts first and runs independently of leader election.
  const webhook: WebhookServer | undefined = o.webhook ? await startWebhookServer(o.webhook) : undefined;
  if (webhook) log.info({ url: webhook.url }, 'admission webhooks serving');
  const registered = webhook && o.webhook?.register ? await registerWebhooks(o.client, webhook.url, log) : undefined;
  const stopAll = new AbortController();
  let active: { ctrl: ActiveControllers; abort: AbortController } | undefined;
  const all = (list: ActiveControllers[]): ActiveControllers => ({
    synced: () => list.every((c) => c.synced()),
    stop: async () => {
      await Promise.all(list.map((c) => c.stop()));
    },
  });
  let leading = !o.leaderElect;
  metrics.leader.set(leading ? 1 : 0);

  const startControllers = async (signal: AbortSignal) => {
    const abort = new AbortController();
    signal.addEventListener('abort', () => abort.abort(), { once: true });
    const started: ActiveControllers[] = [];
    try {
      if (enabled.includes('modelserving')) started.push(await startModelServing(o, metrics, abort.signal));
      if (enabled.includes('modelbooster')) {
        const common = { namespace: o.namespace, clock: o.clock ?? realClock, resyncMs: o.resyncMs };
        const configNamespace = o.configNamespace ?? o.leaseNamespace ?? 'default';
        const mb = await startModelBooster(
          { ...common, client: o.client, log, configNamespace, workers: o.workers },
          {
            metrics: metrics.forController('modelbooster'),
            depth: (n) => metrics.depth.set({ controller: 'modelbooster' }, n),
            queueMetrics: metrics.workQueue('modelbooster'),
            readiness: (list) => {
              metrics.readiness.modelBoosters = () => modelBoosterReadiness(list());
            },
            signal: abort.signal,
          },
        );
        started.push(mb);
      }
      if (enabled.includes('autoscaler')) started.push(await startAutoscaler(o, metrics, abort.signal));
      active = { ctrl: all(started), abort };
    } catch (err) {
      await Promise.all(started.map((c) => c.stop()));
      log.error({ err: (err as Error).message }, 'controllers failed to start');
    }
  };
  const stopControllers = async () => {
    const a = active;
    active = undefined;
    if (!a) return;
    a.abort.abort();
    await a.ctrl.stop();
  };

  let elector: LeaderElector | undefined;
  let electing: Promise<void> | undefined;
  let transitions: Promise<void> = Promise.resolve();
  if (o.leaderElect) {
    const identity = o.identity ?? `${hostname()}_${randomUUID()}`;
    elector = new LeaderElector({
      client: o.client,
      namespace: o.leaseNamespace ?? 'default',
      name: o.leaseName ?? 'kthena.controller-manager',
      identity,
      leaseDurationMs: o.leaseDurationMs,
      renewDeadlineMs: o.renewDeadlineMs,
      retryPeriodMs: o.retryPeriodMs,
      clock: o.clock,
      log,
      onStartedLeading: (signal) => {
        leading = true;
        metrics.leader.set(1);
        log.info({ identity }, 'became leader');
        transitions = transitions.then(() => startControllers(signal));
      },
      onStoppedLeading: () => {
        leading = false;
        metrics.leader.set(0);
        log.info({ identity }, 'stopped leading');
        transitions = transitions.then(stopControllers);
      },
      onNewLeader: (id) => log.info({ leader: id }, 'leader observed'),
    });
    electing = elector.run(stopAll.signal);
  } else {
    transitions = startControllers(stopAll.signal);
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    if (path === '/healthz' || path === '/livez') return send(200, 'ok\n');
    if (path === '/readyz') {
      // A standby is ready (it serves health and waits); a leader once its caches are in sync.
      const ok = !leading || active?.ctrl.synced() === true;
      return send(ok ? 200 : 503, ok ? 'ok\n' : 'caches not synced\n');
    }
    if (path === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => send(200, text, metrics.registry.contentType))
        .catch((err: unknown) => send(500, `${(err as Error).message}\n`));
      return;
    }
    send(404, 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
  log.info({ url, controllers: enabled, leaderElect: !!o.leaderElect }, 'controller-manager started');

  let closing: Promise<void> | undefined;
  return {
    url,
    webhookUrl: webhook?.url,
    setWebhookCertificate: (cert, key) => {
      if (!webhook) throw new Error('the admission webhooks are not enabled');
      webhook.setCertificate(cert, key);
    },
    metrics: metrics.registry,
    isLeader: () => leading,
    ready: () => !leading || active?.ctrl.synced() === true,
    close() {
      closing ??= (async () => {
        stopAll.abort();
        await electing;
        await transitions;
        await stopControllers();
        await registered?.remove();
        await webhook?.close();
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
        log.info({}, 'controller-manager stopped');
      })();
      return closing;
    },
  };
}
