// The aggregated backend: one ModelServer whose pods each serve whole requests — schedule, then forward with
// failover across the ranked candidates.
import type { PipelineDeps, RankingSink } from '../deps.js';
import type { Exchange } from '../exchange.js';
import { forward } from '../forward.js';
import { schedule } from '../schedule.js';
import type { Backend } from './backend.js';
import { prepareServer, type ServerTarget } from './model-server.js';

export class AggregatedBackend implements Backend<ServerTarget> {
  readonly type = 'model_server';

  constructor(
    private readonly d: PipelineDeps,
    private readonly sink: RankingSink,
  ) {}

  prepare(x: Exchange, serverKey: string): Promise<ServerTarget> {
    return prepareServer(x, this.d, serverKey);
  }

  async serve(x: Exchange, t: ServerTarget): Promise<void> {
    const earlier = x.result?.attempts; // attempts on targets tried before this one
    const ranked = await schedule(x, this.d, t.endpoints, this.sink);
    const result = await forward(x, this.d, t.server, t.serverKey, ranked);
    if (earlier?.length) result.attempts.unshift(...earlier);
    x.result = result;
    if (result.error) throw result.error;
  }
}
