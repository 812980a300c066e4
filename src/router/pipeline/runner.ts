// The lifecycle runner: the one owner of a request's life on /v1/*. In order:
//   parse → route → choose backend [prepare → admit → schedule → forward] → (fallback provider) → account
// It counts the request as active, turns a client that leaves into the exchange's abort signal, answers the router's
// own errors, runs the admission releases and the terminal accounting exactly once on every path — whichever backend
// served. A new step is a new phase file called from run(); see docs/router.md ("The request lifecycle").
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, RouterError, sendError } from '../errors.js';
import type { GatewayScope } from '../gateway/scope.js';
import { account } from './account.js';
import { Backends } from './choose-backend.js';
import type { PipelineDeps, RankingSink } from './deps.js';
import { type Exchange, headerValue, newExchange } from './exchange.js';
import { parse } from './parse.js';
import { route } from './route.js';

export class LifecycleRunner {
  /** Requests between arrival and their terminal accounting (graceful drain waits for 0). */
  active = 0;
  readonly backends: Backends;

  constructor(
    private readonly d: PipelineDeps,
    sink: RankingSink,
  ) {
    this.backends = new Backends(d, sink);
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string, scope?: GatewayScope): Promise<void> {
    this.active++;
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    const x = newExchange(req, res, path, scope, ac.signal, headerValue(req.headers['x-request-id']) || randomUUID());
    try {
      await this.run(x).catch((e: unknown) => this.backends.spill(x, e));
    } catch (e) {
      const err = e instanceof RouterError ? e : errors.internal((e as Error).message);
      if (!(e instanceof RouterError))
        this.d.log.error({ err: e, requestId: x.requestId }, 'unexpected error in request pipeline');
      x.error = err;
      if (!ac.signal.aborted) {
        if (err.code === 'body_too_large' || err.code === 'request_timeout') res.setHeader('connection', 'close');
        sendError(res, err);
      }
    } finally {
      for (const r of x.releases.reverse()) r();
      account(x, this.d, ac.signal.aborted);
      this.active--;
    }
  }

  private async run(x: Exchange): Promise<void> {
    await parse(x, this.d);
    route(x, this.d);
    await this.backends.serve(x);
  }
}
