// What the endpoint picker decides for one request: the same route resolution and scheduler as the router's own HTTP
// path (ModelRoute → target ModelServer → its ready endpoints → the configured plugins), restricted to the subset of
// endpoints the gateway offers when it sends one. The answer is a ranked list of `ip:port` destinations, or the
// RouterError the gateway should answer with. No I/O here: the gRPC stream (server.ts) feeds it and carries out the
// lifecycle hooks.
import { errors, RouterError } from '../errors.js';
import { parseJsonObject } from '../request/body.js';
import { buildRequestContext, type RequestContext } from '../request/context.js';
import { matchModel } from '../routing/match.js';
import type { Scheduler } from '../scheduler/framework.js';
import type { RouterStore, ServerEndpoint } from '../store/store.js';

export interface PickerDeps {
  store: RouterStore;
  scheduler: Scheduler;
  rand: () => number;
  /** How many ranked endpoints go back to the gateway: the primary and its fallbacks, in order. */
  maxDestinations: number;
}

export interface PickInput {
  id: string;
  /** Request headers, lower-cased names (`:path` and `:method` included, as Envoy sends them). */
  headers: Readonly<Record<string, string>>;
  body: Buffer;
  /** `ip:port` entries the gateway allows (envoy.lb.subset_hint); undefined when it sent none. */
  subset: readonly string[] | undefined;
  startedAt: number;
}

export interface Pick {
  ctx: RequestContext;
  ranked: ServerEndpoint[];
  /** `ip:port` of each ranked endpoint, primary first. */
  destinations: string[];
}

/** `ip:port` as the protocol writes it (IPv6 in brackets). */
export function hostPort(ep: ServerEndpoint): string {
  const a = ep.state.address;
  return `${a.includes(':') ? `[${a}]` : a}:${ep.port}`;
}

/** Chooses the endpoints for one request, or throws the RouterError to answer with. */
export async function pick(d: PickerDeps, i: PickInput): Promise<Pick> {
  const body = parseJsonObject(i.body);
  const model = body.model;
  if (typeof model !== 'string' || model.trim() === '') throw errors.modelNotFound(model !== undefined);
  const path = (i.headers[':path'] ?? '/v1/chat/completions').split('?', 1)[0];
  const view = d.store.view;
  const lora = !view.routesByModel.has(model);
  const ctx = buildRequestContext({
    id: i.id,
    method: i.headers[':method'] ?? 'POST',
    path,
    headers: i.headers,
    raw: i.body,
    body,
    model,
    isLora: lora,
    startedAt: i.startedAt,
  });
  const match = matchModel(view, model, { path, header: (n) => i.headers[n.toLowerCase()] }, d.rand);
  if (!match) throw errors.routeNotFound(model);
  ctx.route = match;
  const ns = match.route.metadata.namespace ?? 'default';
  if (!match.target.modelServerName)
    throw errors.pickerUnsupported(
      `route target ${ns}/${match.target.externalModelProviderName} is an ExternalModelProvider; an endpoint picker can only choose model-server pods`,
    );
  const serverKey = `${ns}/${match.target.modelServerName}`;
  const server = view.servers.get(serverKey);
  if (!server) throw errors.modelServerNotFound(serverKey);
  if (server.spec.workloadSelector?.pdGroup)
    throw errors.pickerUnsupported(
      `model server ${serverKey} is prefill/decode-disaggregated; its two legs are served by the kthena router itself, not through an endpoint picker`,
    );
  ctx.serverKey = serverKey;
  let endpoints = view.endpointsByServer.get(serverKey) ?? [];
  if (i.subset) {
    const allowed = new Set(i.subset);
    endpoints = endpoints.filter((ep) => allowed.has(hostPort(ep)));
    if (endpoints.length === 0)
      throw new RouterError(
        503,
        'no_available_endpoints',
        `none of the gateway's ${i.subset.length} subset endpoint(s) is a ready pod of model server ${serverKey}`,
      );
  }
  if (endpoints.length === 0) throw errors.noEndpoints(serverKey);
  const ranked = (await d.scheduler.schedule(ctx, endpoints)).ranked.slice(0, Math.max(1, d.maxDestinations));
  return { ctx, ranked, destinations: ranked.map(hostPort) };
}
