// Starts the ModelBooster controller against a real API: reads the controller's ConfigMap (images), builds the
// informers (children filtered by managed-by, indexed by model-uid) and runs the workers until stopped.
import type { KubeClient } from '../../kube/client.js';
import type { Clock } from '../../kube/clock.js';
import { Informer } from '../../kube/informer.js';
import type { KubeObject } from '../../kube/resource.js';
import { WorkQueue, type WorkQueueMetrics } from '../../kube/workqueue.js';
import type { ControllerMetrics, Logger } from '../modelserving/controller.js';
import { isNotFound, type ResourceRefLike } from '../modelserving/io.js';
import { BY_MODEL_UID, ModelBoosterController, modelUidIndex } from './controller.js';
import {
  BOOSTER_REFS,
  type BoosterImages,
  CHILD_SELECTOR,
  CONFIGMAP_NAME,
  CONFIGMAP_REF,
  imagesFromConfig,
} from './naming.js';
import type { Child } from './types.js';

export interface ModelBoosterStartOptions {
  client: KubeClient;
  log: Logger & { child?: (b: object) => Logger };
  clock: Clock;
  /** watch only this namespace (default: all) */
  namespace?: string;
  /** where model-booster-controller-config lives (the controller's own namespace) */
  configNamespace: string;
  workers?: number;
  resyncMs?: number;
}

/** Images from the ConfigMap, like upstream at startup; a missing ConfigMap keeps our defaults. */
export async function readBoosterImages(client: KubeClient, namespace: string): Promise<BoosterImages> {
  try {
    const cm = await client.get<{ data?: Record<string, string> }>(CONFIGMAP_REF, CONFIGMAP_NAME, namespace);
    return imagesFromConfig(cm.data);
  } catch (err) {
    if (isNotFound(err)) return imagesFromConfig(undefined);
    throw err;
  }
}

/** Which of these resources the API server serves (discovery per group/version). */
export async function servedResources(client: KubeClient, refs: ResourceRefLike[]): Promise<Set<string>> {
  const served = new Set<string>();
  for (const gv of new Set(refs.map((r) => `${r.group}/${r.version}`))) {
    try {
      const list = await client.request<{ resources?: { name: string }[] }>({ method: 'GET', path: `/apis/${gv}` });
      for (const r of list?.resources ?? []) served.add(`${gv}/${r.name}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return new Set(refs.filter((r) => served.has(`${r.group}/${r.version}/${r.plural}`)).map((r) => r.plural));
}

const IDLE = { synced: () => true, stop: async () => {} };

export async function startModelBooster(
  o: ModelBoosterStartOptions,
  run: {
    metrics: ControllerMetrics;
    depth: (n: number) => void;
    /** client-go's workqueue metrics for the booster queue. */
    queueMetrics?: WorkQueueMetrics;
    /** Hands over the boosters' cache, for readiness metrics at scrape time. */
    readiness?: (list: () => readonly unknown[]) => void;
    signal: AbortSignal;
  },
): Promise<{ synced(): boolean; stop(): Promise<void> }> {
  const { client, clock } = o;
  const log = o.log.child?.({ controller: 'modelbooster' }) ?? o.log;
  const needed = [
    BOOSTER_REFS.modelBoosters,
    BOOSTER_REFS.modelServings,
    BOOSTER_REFS.modelServers,
    BOOSTER_REFS.modelRoutes,
    BOOSTER_REFS.autoscalingPolicies,
  ];
  const served = await servedResources(client, needed);
  const missing = needed.filter((r) => !served.has(r.plural)).map((r) => `${r.plural}.${r.group}`);
  if (missing.length > 0) {
    // Like the LWS adapter without its API: nothing to do until the CRDs exist (restart the manager after applying them).
    log.warn({ missing }, 'modelbooster: CRDs not served, controller idle (apply deploy/crds and restart)');
    return IDLE;
  }
  const images = await readBoosterImages(client, o.configNamespace);
  log.info({ images }, 'modelbooster: downloader and runtime images');
  const common = { namespace: o.namespace, clock, resyncMs: o.resyncMs, log: o.log as never };
  const child = { ...common, labelSelector: CHILD_SELECTOR, indexers: { [BY_MODEL_UID]: modelUidIndex } };
  const boosters = new Informer<any>(client, BOOSTER_REFS.modelBoosters, common);
  const children = {
    modelServing: new Informer<any>(client, BOOSTER_REFS.modelServings, child),
    modelServer: new Informer<any>(client, BOOSTER_REFS.modelServers, child),
    modelRoute: new Informer<any>(client, BOOSTER_REFS.modelRoutes, child),
    autoscalingPolicy: new Informer<any>(client, BOOSTER_REFS.autoscalingPolicies, child),
  };
  const all: Informer<KubeObject>[] = [boosters, ...Object.values(children)];
  for (const inf of all) inf.on('error', (err) => log.warn({ err: err.message }, 'informer error'));
  const queue = new WorkQueue<string>({ clock, name: 'modelbooster', metrics: run.queueMetrics });
  run.readiness?.(() => boosters.list());
  const ctrl = new ModelBoosterController({
    client,
    modelBoosters: boosters,
    children: children as unknown as Record<keyof typeof children, Informer<Child>>,
    queue,
    images,
    workers: o.workers,
    now: () => clock.now(),
    log,
    metrics: run.metrics,
  });
  const depthTimer = setInterval(() => run.depth(queue.len()), 1000);
  depthTimer.unref();
  for (const inf of all) inf.start();
  let synced = false;
  const running = (async () => {
    try {
      await Promise.all(all.map((i) => i.waitForSync(run.signal)));
    } catch {
      return; // stopped before the caches synced
    }
    synced = true;
    log.info({}, 'modelbooster: caches synced, starting workers');
    ctrl.enqueueAll();
    await ctrl.run(run.signal);
  })();
  return {
    synced: () => synced,
    async stop() {
      queue.shutDown();
      await running;
      clearInterval(depthTimer);
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
