// One consistent view of everything routing needs: routes indexed by model and LoRA name, ModelServers and the ready
// endpoints their selectors pick, plus per-endpoint runtime state. Sources write whole objects; indexes are rebuilt
// synchronously on every change (sizes are small), so a request always sees one coherent snapshot.
import { EventEmitter } from 'node:events';
import { EndpointState, type ServerEndpoint } from './endpoint-state.js';
import { buildPdTopology, type PdTopology } from './pd-topology.js';
import {
  type EndpointSpec,
  type ExternalModelProvider,
  keyOf,
  type ModelRoute,
  type ModelServer,
} from './resources.js';
import { compareRouteAge } from './route-order.js';

export type { ServerEndpoint };

export interface StoreView {
  readonly routesByModel: ReadonlyMap<string, readonly ModelRoute[]>;
  readonly routesByLora: ReadonlyMap<string, readonly ModelRoute[]>;
  readonly servers: ReadonlyMap<string, ModelServer>;
  readonly providers: ReadonlyMap<string, ExternalModelProvider>;
  /** ModelServer key → ready endpoints it selects. */
  readonly endpointsByServer: ReadonlyMap<string, readonly ServerEndpoint[]>;
  /** Endpoint key → ModelServer keys selecting it. */
  readonly serversByEndpoint: ReadonlyMap<string, readonly string[]>;
  /** ModelServer key → prefill/decode groups, for ModelServers with workloadSelector.pdGroup. */
  readonly pdByServer: ReadonlyMap<string, PdTopology>;
}

export interface StoreSnapshot {
  routes: ModelRoute[];
  servers: ModelServer[];
  providers: ExternalModelProvider[];
  endpoints: EndpointSpec[];
}

type Kind = 'ModelRoute' | 'ModelServer' | 'ExternalModelProvider' | 'Endpoint';

export function selectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const entries = Object.entries(selector);
  // An empty selector selects nothing: upstream's webhook requires ≥1 label, and selecting every pod is never intended.
  if (entries.length === 0) return false;
  for (const [k, v] of entries) if (labels[k] !== v) return false;
  return true;
}

/** Events: 'change' after every rebuild; 'endpoint-removed' (EndpointState) for every endpoint that left. */
export class RouterStore extends EventEmitter {
  private routes = new Map<string, ModelRoute>();
  private servers = new Map<string, ModelServer>();
  private providers = new Map<string, ExternalModelProvider>();
  private endpointSpecs = new Map<string, EndpointSpec>();
  private states = new Map<string, EndpointState>();
  private current: StoreView = emptyView();
  private generation = 0;

  get view(): StoreView {
    return this.current;
  }

  /** Incremented on every rebuild; lets tests wait for "within one sync". */
  get version(): number {
    return this.generation;
  }

  endpointStates(): EndpointState[] {
    return [...this.states.values()];
  }

  endpointState(key: string): EndpointState | undefined {
    return this.states.get(key);
  }

  rawRoutes(): ModelRoute[] {
    return [...this.routes.values()];
  }

  rawServers(): ModelServer[] {
    return [...this.servers.values()];
  }

  rawEndpoints(): EndpointSpec[] {
    return [...this.endpointSpecs.values()];
  }

  /** Replace every object at once (file source): one rebuild, so requests never see half a configuration. */
  replaceAll(snap: StoreSnapshot): void {
    this.routes = new Map(snap.routes.map((r) => [keyOf(r.metadata), r]));
    this.servers = new Map(snap.servers.map((s) => [keyOf(s.metadata), s]));
    this.providers = new Map(snap.providers.map((p) => [keyOf(p.metadata), p]));
    this.endpointSpecs = new Map(snap.endpoints.map((e) => [`${e.namespace}/${e.name}`, e]));
    this.rebuild();
  }

  upsert(obj: ModelRoute | ModelServer | ExternalModelProvider): void {
    const key = keyOf(obj.metadata);
    if (obj.kind === 'ModelRoute') this.routes.set(key, obj);
    else if (obj.kind === 'ModelServer') this.servers.set(key, obj);
    else this.providers.set(key, obj);
    this.rebuild();
  }

  upsertEndpoint(ep: EndpointSpec): void {
    this.endpointSpecs.set(`${ep.namespace}/${ep.name}`, ep);
    this.rebuild();
  }

  remove(kind: Kind, key: string): void {
    const map =
      kind === 'ModelRoute'
        ? this.routes
        : kind === 'ModelServer'
          ? this.servers
          : kind === 'ExternalModelProvider'
            ? this.providers
            : this.endpointSpecs;
    if (map.delete(key)) this.rebuild();
  }

  private rebuild(): void {
    const routesByModel = new Map<string, ModelRoute[]>();
    const routesByLora = new Map<string, ModelRoute[]>();
    for (const r of this.routes.values()) {
      const name = r.spec.modelName;
      if (name) push(routesByModel, name, r);
      for (const lora of new Set(r.spec.loraAdapters ?? [])) if (lora) push(routesByLora, lora, r);
    }
    for (const list of routesByModel.values()) list.sort(compareRouteAge);
    for (const list of routesByLora.values()) list.sort(compareRouteAge);

    const endpointsByServer = new Map<string, ServerEndpoint[]>();
    const serversByEndpoint = new Map<string, string[]>();
    const pdByServer = new Map<string, PdTopology>();
    const live = new Set<string>();
    const sortedServers = [...this.servers.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [serverKey, server] of sortedServers) {
      const ns = server.metadata.namespace ?? 'default';
      const selected: ServerEndpoint[] = [];
      for (const [epKey, spec] of this.endpointSpecs) {
        if (!spec.ready || spec.namespace !== ns) continue;
        if (!selectorMatches(server.spec.workloadSelector?.matchLabels, spec.labels)) continue;
        const port = spec.port ?? server.spec.workloadPort?.port;
        if (!port) continue;
        const state = this.stateFor(
          epKey,
          spec,
          port,
          server.spec.inferenceEngine ?? 'vLLM',
          server.spec.workloadPort?.protocol,
        );
        live.add(epKey);
        selected.push({ state, port, origin: originOf(spec.address, port, server.spec.workloadPort?.protocol) });
        push(serversByEndpoint, epKey, serverKey);
      }
      selected.sort((a, b) => (a.state.key < b.state.key ? -1 : 1));
      endpointsByServer.set(serverKey, selected);
      const pd = server.spec.workloadSelector?.pdGroup;
      if (pd) pdByServer.set(serverKey, buildPdTopology(pd, selected));
    }
    // Endpoints selected by no ModelServer (or no longer ready) leave the store: no stale endpoint stays schedulable.
    for (const [key, state] of this.states) {
      if (live.has(key)) continue;
      this.states.delete(key);
      state.removed = true;
      this.emit('endpoint-removed', state);
    }
    this.current = {
      routesByModel,
      routesByLora,
      servers: new Map(this.servers),
      providers: new Map(this.providers),
      endpointsByServer,
      serversByEndpoint,
      pdByServer,
    };
    this.generation++;
    this.emit('change', this.current);
  }

  private stateFor(
    key: string,
    spec: EndpointSpec,
    port: number,
    engine: 'vLLM' | 'SGLang',
    protocol: string | undefined,
  ): EndpointState {
    let s = this.states.get(key);
    if (!s || s.address !== spec.address) {
      if (s) {
        // Same name, new address (pod recreated): a fresh state, the old one is gone.
        s.removed = true;
        this.emit('endpoint-removed', s);
      }
      s = new EndpointState(key, spec.namespace, spec.name, spec.address, port, engine, spec.labels);
      this.states.set(key, s);
      this.emit('endpoint-added', s);
    }
    // The last ModelServer that selects the endpoint decides its engine and scrape port (upstream behaviour).
    s.port = port;
    s.https = protocol === 'https';
    s.engine = engine;
    s.labels = spec.labels;
    return s;
  }
}

/** workloadPort.protocol is honoured (upstream always uses plain HTTP, §11.2). */
function originOf(address: string, port: number, protocol: string | undefined): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `${protocol === 'https' ? 'https' : 'http'}://${host}:${port}`;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function emptyView(): StoreView {
  return {
    routesByModel: new Map(),
    routesByLora: new Map(),
    servers: new Map(),
    providers: new Map(),
    endpointsByServer: new Map(),
    serversByEndpoint: new Map(),
    pdByServer: new Map(),
  };
}
