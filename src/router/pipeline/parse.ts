// Phase 1, parse: read the body once (size and time bounded), check `model` and `stream_options`, build the request
// context every later phase and plugin reads.
import { errors, RouterError } from '../errors.js';
import { parseJsonObject, readBody } from '../request/body.js';
import { buildRequestContext } from '../request/context.js';
import type { PipelineDeps } from './deps.js';
import type { Exchange } from './exchange.js';

export async function parse(x: Exchange, d: PipelineDeps): Promise<void> {
  const { req } = x;
  const raw = await readBody(req, d.limits);
  const body = parseJsonObject(raw);
  const model = body.model;
  if (typeof model !== 'string' || model.trim() === '') throw errors.modelNotFound(model !== undefined);
  const so = body.stream_options;
  if (so !== undefined && so !== null && (typeof so !== 'object' || Array.isArray(so)))
    throw new RouterError(400, 'invalid_request_body', '"stream_options" must be an object', {}, 'stream_options');
  x.model = model;
  const view = d.store.view;
  if (view.routesByModel.has(model) || view.routesByLora.has(model)) x.modelLabel = model;
  d.metrics.activeDownstream.inc({ model: x.modelLabel });
  x.downstreamCounted = true;
  x.ctx = buildRequestContext({
    id: x.requestId,
    method: req.method ?? 'POST',
    path: x.path,
    url: req.url ?? x.path,
    headers: req.headers,
    raw,
    body,
    model,
    isLora: !view.routesByModel.has(model),
    signal: x.signal,
    startedAt: x.startedAt,
    clientAddress: req.socket.remoteAddress ?? '',
  });
}
