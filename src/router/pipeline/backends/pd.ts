// The prefill/decode backend: a ModelServer whose pods form prefill and decode groups (src/router/pd ranks the pairs
// and runs the connector's two legs; each leg's attempts go through the one attempt bookkeeping, attemptHooks in src/router/scheduler/lifecycle.ts).
import { PdRouter } from '../../pd/serve.js';
import type { PipelineDeps, RankingSink } from '../deps.js';
import type { Exchange } from '../exchange.js';
import type { Backend } from './backend.js';
import { prepareServer, type ServerTarget } from './model-server.js';

export class PdBackend implements Backend<ServerTarget> {
  readonly type = 'model_server';
  readonly router: PdRouter;

  constructor(
    private readonly d: PipelineDeps,
    private readonly sink: RankingSink,
  ) {
    this.router = new PdRouter(d);
  }

  prepare(x: Exchange, serverKey: string): Promise<ServerTarget> {
    return prepareServer(x, this.d, serverKey);
  }

  async serve(x: Exchange, t: ServerTarget): Promise<void> {
    const ctx = x.ctx;
    if (!ctx) throw new Error('backend before parse');
    x.result = await this.router.serve({
      ctx,
      headers: x.req.headers,
      res: x.res,
      server: t.server,
      serverKey: t.serverKey,
      topology: this.d.store.view.pdByServer.get(t.serverKey), // fresh: a scale from zero may have waited
      dest: x.dest,
      onScheduled: (top, ranking) => {
        x.selected = top;
        x.schedDoneAt = performance.now();
        this.sink.noteRanking(ctx.model, ranking);
      },
    });
    if (x.result.error) throw x.result.error;
  }
}
