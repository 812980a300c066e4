// What the two in-cluster backends (aggregated, prefill/decode) do before admission: find the ModelServer, point the
// request at it (its model name unless LoRA) and get its endpoints — waiting for one when it scales from zero.
import { errors } from '../../errors.js';
import type { ModelServer } from '../../store/resources.js';
import type { ServerEndpoint } from '../../store/store.js';
import type { PipelineDeps } from '../deps.js';
import type { Exchange } from '../exchange.js';

export interface ServerTarget {
  serverKey: string;
  server: ModelServer;
  endpoints: readonly ServerEndpoint[];
}

export async function prepareServer(x: Exchange, d: PipelineDeps, serverKey: string): Promise<ServerTarget> {
  const ctx = x.ctx;
  if (!ctx) throw new Error('backend before parse');
  const server = d.store.view.servers.get(serverKey);
  x.dest = { ...x.dest, backend_type: 'model_server', backend_name: serverKey };
  if (!server) throw errors.modelServerNotFound(serverKey);
  ctx.serverKey = serverKey;
  ctx.server = server;
  if (server.spec.model && !ctx.isLora) ctx.upstreamModel = server.spec.model;
  x.dest = { ...x.dest, upstream_model: ctx.upstreamModel };
  const endpoints = d.scaleFromZero
    ? await d.scaleFromZero.endpoints(serverKey, server, ctx.signal)
    : (d.store.view.endpointsByServer.get(serverKey) ?? []);
  if (endpoints.length === 0) throw errors.noEndpoints(serverKey);
  return { serverKey, server, endpoints };
}
