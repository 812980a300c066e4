// Phase 4, choose backend: the route's target decides — an ExternalModelProvider, or a ModelServer (prefill/decode
// when its workloads form PD groups, else aggregated). For each: prepare (resolve, wait for endpoints), admit once,
// serve (phases 5–6 inside the backend). Target failover: when a weighted target's ModelServer cannot serve (no
// endpoint, every attempt failed before a byte reached the client), the rule's other ModelServer targets are tried,
// weighted, before the error is final.
import { RouterError } from '../errors.js';
import { pickTarget, type RouteMatch } from '../routing/match.js';
import { admit } from './admit.js';
import { AggregatedBackend } from './backends/aggregated.js';
import type { Backend } from './backends/backend.js';
import { PdBackend } from './backends/pd.js';
import { ProviderBackend } from './backends/provider.js';
import type { PipelineDeps, RankingSink } from './deps.js';
import type { Exchange } from './exchange.js';

export class Backends {
  readonly aggregated: AggregatedBackend;
  readonly pd: PdBackend;
  readonly provider: ProviderBackend;

  constructor(
    private readonly d: PipelineDeps,
    sink: RankingSink,
  ) {
    this.aggregated = new AggregatedBackend(d, sink);
    this.pd = new PdBackend(d, sink);
    this.provider = new ProviderBackend(d);
  }

  /** Serves the routed request on its target, failing over to the rule's other ModelServer targets. */
  async serve(x: Exchange): Promise<void> {
    const { match } = x;
    const ns = match?.route.metadata.namespace ?? 'default';
    if (match && !match.target.modelServerName)
      return this.run(x, this.provider, `${ns}/${match.target.externalModelProviderName}`);
    const first = x.pool ? x.pool.serverKey : `${ns}/${match?.target.modelServerName}`;
    const tried = new Set<string>();
    for (let serverKey: string | undefined = first; serverKey; ) {
      tried.add(serverKey);
      try {
        return await this.run(x, this.forServer(serverKey), serverKey);
      } catch (e) {
        const next =
          match && !x.res.headersSent && !x.signal.aborted ? nextTarget(e, match, ns, tried, this.d.rand) : undefined;
        if (!next) throw e;
        this.d.log.debug({ requestId: x.requestId, from: serverKey, to: next }, 'target failed; trying the next one');
        serverKey = next;
      }
    }
  }

  /** After a failure before the first byte: the route's fallback provider, when it has one for this error. */
  async spill(x: Exchange, e: unknown): Promise<void> {
    const t = this.provider.spillFor(x, e);
    if (!t) throw e;
    await admit(x, this.d);
    if (x.signal.aborted) return;
    await this.provider.serve(x, t);
  }

  private forServer(serverKey: string): Backend<unknown> {
    const server = this.d.store.view.servers.get(serverKey);
    return server?.spec.workloadSelector?.pdGroup ? this.pd : this.aggregated;
  }

  private async run<P>(x: Exchange, backend: Backend<P>, target: string): Promise<void> {
    const prepared = await backend.prepare(x, target);
    await admit(x, this.d);
    if (x.signal.aborted) return;
    await backend.serve(x, prepared);
  }
}

/** Failures of one ModelServer that another target of the same rule may not share. */
const TARGET_FAILOVER_CODES: ReadonlySet<string> = new Set([
  'no_available_endpoints',
  'all_upstreams_failed',
  'scheduling_failed',
  'model_server_not_found',
]);

/** The next ModelServer target of the matched rule to try after `e`, weighted among those not tried yet. */
function nextTarget(
  e: unknown,
  match: RouteMatch,
  ns: string,
  tried: ReadonlySet<string>,
  rand: () => number,
): string | undefined {
  if (!(e instanceof RouterError) || !TARGET_FAILOVER_CODES.has(e.code)) return undefined;
  const left = (match.rule.targetModels ?? []).filter(
    (t) => t.modelServerName && !tried.has(`${ns}/${t.modelServerName}`),
  );
  const t = pickTarget(left, rand);
  return t ? `${ns}/${t.modelServerName}` : undefined;
}
