// The router's /v1 surface: the model list and model objects, and every inference request handed to the lifecycle
// runner (./pipeline/runner.ts), which owns a request's life from parse to account. Keeps each model's latest ranking
// for the debug view.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RouterError, sendError } from './errors.js';
import type { GatewayScope } from './gateway/scope.js';
import type { PdRouter } from './pd/serve.js';
import type { PipelineDeps, Ranking, RankingSink } from './pipeline/deps.js';
import { LifecycleRunner } from './pipeline/runner.js';
import type { EndpointScore } from './scheduler/framework.js';

export type HandlerDeps = PipelineDeps;

export class RequestHandler implements RankingSink {
  /**
   * Last ranking per model, for the debug view. Kept by reference and turned into per-endpoint scores only when the
   * debug view asks: a copy per candidate per request would cost more than the decision itself.
   */
  private readonly lastRankings = new Map<string, { ranking: Ranking; at: number }>();
  private readonly runner: LifecycleRunner;
  /** Prefill/decode disaggregation (src/router/pd). */
  readonly pd: PdRouter;

  constructor(private readonly d: HandlerDeps) {
    this.runner = new LifecycleRunner(d, this);
    this.pd = this.runner.backends.pd.router;
    d.store.on('endpoint-removed', (s) => {
      for (const p of d.scheduler.plugins) p.onEndpointRemoved?.(s);
    });
    d.store.on('endpoint-added', (s) => {
      for (const p of d.scheduler.plugins) p.onEndpointAdded?.(s);
    });
    // Endpoints already in the store when the router starts.
    for (const eps of d.store.view.endpointsByServer.values())
      for (const ep of eps) for (const p of d.scheduler.plugins) p.onEndpointAdded?.(ep.state);
  }

  /** Requests in flight (graceful drain waits for 0). */
  get active(): number {
    return this.runner.active;
  }

  noteRanking(model: string, ranking: Ranking): void {
    this.lastRankings.set(model, { ranking, at: Date.now() });
  }

  /** The newest score given to an endpoint, over the last ranking of each model (debug view). */
  lastScore(endpoint: string): (EndpointScore & { at: string; model: string }) | null {
    let best: (EndpointScore & { at: string; model: string }) | null = null;
    let bestAt = -1;
    for (const [model, { ranking, at }] of this.lastRankings) {
      if (at <= bestAt) continue;
      const sc = ranking.scores.find((x) => x.endpoint === endpoint);
      if (!sc) continue;
      best = { ...sc, at: new Date(at).toISOString(), model };
      bestAt = at;
    }
    return best;
  }

  /** GET /v1/models/{id}: the model object of a model or adapter some ModelRoute serves, else 404 (as OpenAI). */
  modelInfo(res: ServerResponse, id: string): void {
    const v = this.d.store.view;
    if (!v.routesByModel.has(id) && !v.routesByLora.has(id)) {
      sendError(res, new RouterError(404, 'model_not_found', `the model "${id}" does not exist`, {}, 'model'));
      return;
    }
    const body = JSON.stringify({ id, object: 'model', created: 0, owned_by: 'kthena' });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  modelsList(res: ServerResponse): void {
    const v = this.d.store.view;
    const names = [...new Set([...v.routesByModel.keys(), ...v.routesByLora.keys()])].sort();
    const body = JSON.stringify({
      object: 'list',
      data: names.map((id) => ({ id, object: 'model', created: 0, owned_by: 'kthena' })),
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /**
   * `scope`: the Gateway listener that received the request (Gateway API mode, src/router/gateway); on the router's
   * plain port routes with parentRefs are not served.
   */
  handle(req: IncomingMessage, res: ServerResponse, path: string, scope?: GatewayScope): Promise<void> {
    return this.runner.handle(req, res, path, scope);
  }
}
