// Debug views (reference §7.6) plus the scheduler's view of every endpoint. Served on loopback only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from '../handler.js';
import type { RouterConfiguration } from '../scheduler/config.js';
import type { Scheduler } from '../scheduler/framework.js';
import { keyOf } from '../store/resources.js';
import type { RouterStore } from '../store/store.js';

/** A Gateway API object as the dump shows it (upstream's shape: name, namespace, spec, status). */
export interface GatewayApiObject {
  metadata?: { name?: string; namespace?: string };
  spec?: unknown;
  status?: unknown;
}

export interface DebugDeps {
  store: RouterStore;
  handler: RequestHandler;
  scheduler: Scheduler;
  config: RouterConfiguration;
  /** Gateway API mode's watch caches; empty lists when the mode is off. */
  gatewayApi?: () => {
    gateways: GatewayApiObject[];
    httproutes: GatewayApiObject[];
    inferencepools: GatewayApiObject[];
  };
}

const KINDS = {
  modelroutes: 'ModelRoute',
  modelservers: 'ModelServer',
  pods: 'Pod',
  gateways: 'Gateway',
  httproutes: 'HTTPRoute',
  inferencepools: 'InferencePool',
} as const;
type DumpKind = keyof typeof KINDS;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function routeDump(d: DebugDeps) {
  return d.store.rawRoutes().map((r) => ({
    name: r.metadata.name,
    namespace: r.metadata.namespace,
    spec: r.spec,
    routeInfo: { model: r.spec.modelName ?? '', loras: r.spec.loraAdapters ?? [] },
  }));
}

function serverDump(d: DebugDeps) {
  const v = d.store.view;
  return [...v.servers.entries()].map(([key, s]) => ({
    name: s.metadata.name,
    namespace: s.metadata.namespace,
    spec: s.spec,
    associatedPods: (v.endpointsByServer.get(key) ?? []).map((e) => e.state.key),
    decodePods: (v.pdByServer.get(key)?.decode ?? []).map((e) => e.state.key),
    prefillPods: (v.pdByServer.get(key)?.prefill ?? []).map((e) => e.state.key),
  }));
}

function gatewayApiDump(d: DebugDeps, kind: 'gateways' | 'httproutes' | 'inferencepools') {
  return (d.gatewayApi?.()[kind] ?? []).map((o) => ({
    name: o.metadata?.name ?? '',
    namespace: o.metadata?.namespace,
    spec: o.spec,
    status: o.status ?? null,
  }));
}

function dump(d: DebugDeps, kind: DumpKind): { name: string; namespace?: string }[] {
  if (kind === 'modelroutes') return routeDump(d);
  if (kind === 'modelservers') return serverDump(d);
  if (kind === 'pods') return podDump(d);
  return gatewayApiDump(d, kind);
}

function podDump(d: DebugDeps) {
  const v = d.store.view;
  return d.store.endpointStates().map((s) => ({
    name: s.name,
    namespace: s.namespace,
    podInfo: { podIP: s.address, labels: s.labels, phase: 'Running' },
    engine: s.engine,
    metrics: {
      gpuCacheUsage: s.metrics.kvCacheUsage,
      requestWaitingNum: s.metrics.waiting,
      requestRunningNum: s.metrics.running,
      tpot: s.metrics.tpot,
      ttft: s.metrics.ttft,
    },
    models: [...s.models],
    modelServers: v.serversByEndpoint.get(s.key) ?? [],
  }));
}

export function debugHandler(d: DebugDeps) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return json(res, 405, { error: 'only GET is supported' });
    const parts = path.split('/').filter(Boolean);
    if (parts[0] !== 'debug') return json(res, 404, { error: 'not found' });
    if (parts[1] === 'config_dump' && parts.length === 3 && parts[2] in KINDS) {
      const kind = parts[2] as DumpKind;
      return json(res, 200, { [kind]: dump(d, kind) });
    }
    if (parts[1] === 'config_dump' && parts[2] === 'namespaces' && parts.length === 6 && parts[4] in KINDS) {
      const kind = parts[4] as DumpKind;
      const found = dump(d, kind).find((o) => o.namespace === parts[3] && o.name === parts[5]);
      return found ? json(res, 200, found) : json(res, 404, { error: `${KINDS[kind]} not found` });
    }
    if (parts[1] === 'scheduler' && parts.length === 2) {
      const v = d.store.view;
      return json(res, 200, {
        plugins: {
          filters: d.config.scheduler.filters,
          scores: d.config.scheduler.scores,
          topN: d.config.scheduler.topN,
          state: Object.fromEntries(d.scheduler.plugins.map((p) => [p.name, p.debugState?.() ?? null])),
        },
        endpoints: d.store.endpointStates().map((s) => ({
          endpoint: s.key,
          origin: s.origin,
          engine: s.engine,
          modelServers: v.serversByEndpoint.get(s.key) ?? [],
          inflight: s.inflight,
          metrics: s.metrics,
          models: [...s.models],
          lastScrapeAt: s.lastScrapeAt ? new Date(s.lastScrapeAt).toISOString() : null,
          lastScrapeError: s.lastScrapeError ?? null,
          lastScore: d.handler.lastScore(s.key),
        })),
      });
    }
    if (parts[1] === 'routes' && parts.length === 2) {
      const v = d.store.view;
      const idx = (m: ReadonlyMap<string, readonly { metadata: { name: string; namespace?: string } }[]>) =>
        Object.fromEntries([...m].map(([k, rs]) => [k, rs.map((r) => keyOf(r.metadata))]));
      return json(res, 200, { byModel: idx(v.routesByModel), byLora: idx(v.routesByLora) });
    }
    json(res, 404, { error: 'not found' });
  };
}
