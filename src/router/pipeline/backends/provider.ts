// The external-provider backend: a route target naming an ExternalModelProvider, or the route's fallback provider
// when an in-cluster target failed before its first byte (src/router/providers does the HTTPS call and translation).
import { errors, RouterError } from '../../errors.js';
import type { ProviderCall } from '../../providers/gateway.js';
import type { Spill } from '../../providers/hook.js';
import type { PipelineDeps } from '../deps.js';
import type { Exchange } from '../exchange.js';
import type { Backend } from './backend.js';

/** A provider target (`ns/name`), or a spill of a failed in-cluster request to the route's fallback provider. */
export type ProviderTarget = { key: string; spill?: Spill };

export class ProviderBackend implements Backend<ProviderTarget> {
  readonly type = 'external_provider';

  constructor(private readonly d: PipelineDeps) {}

  async prepare(x: Exchange, key: string): Promise<ProviderTarget> {
    x.dest = { ...x.dest, backend_type: 'external_provider', backend_name: key };
    if (!this.d.providers) throw errors.externalUnsupported(key);
    return { key };
  }

  /** Before admission: the fallback that takes a failed in-cluster request, when the route has one for this error. */
  spillFor(x: Exchange, e: unknown): ProviderTarget | undefined {
    const spill = e instanceof RouterError && x.ctx ? this.d.providers?.shouldSpill(x.ctx, e, x.res) : undefined;
    return spill && { key: spill.providerKey, spill };
  }

  async serve(x: Exchange, t: ProviderTarget): Promise<void> {
    const providers = this.d.providers;
    const ctx = x.ctx;
    if (!providers || !ctx) throw errors.externalUnsupported(t.key);
    let call: ProviderCall;
    if (t.spill) {
      x.fallback = { reason: t.spill.reason, from: ctx.serverKey ?? x.dest.backend_name };
      x.selected = undefined;
      x.dest = { ...x.dest, backend_type: 'external_provider', backend_name: t.key };
      const before = x.result?.attempts ?? [];
      call = await providers.spill(ctx, x.res, t.spill, x.dest.model_route);
      call.result.attempts.unshift(...before);
    } else call = await providers.serveTarget(ctx, x.res, t.key);
    x.dest = { ...x.dest, backend_type: 'external_provider', backend_name: t.key, upstream_model: call.upstreamModel };
    x.result = call.result;
    if (call.result.error) throw call.result.error;
  }
}
