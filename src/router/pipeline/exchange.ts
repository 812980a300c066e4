// The exchange: everything the pipeline knows about one request, from arrival to the access-log line. Each phase fills
// the fields it owns (named below) and later phases read them; nothing travels beside it (no attribute maps, no state
// handed through callbacks). Plugins and admission stages see `ctx`, the part of it that is about the request itself.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Release } from '../admission/chain.js';
import type { RouterError } from '../errors.js';
import type { GatewayScope, PoolTarget } from '../gateway/scope.js';
import type { ProxyResult } from '../proxy/forward.js';
import type { RequestContext } from '../request/context.js';
import type { RouteMatch } from '../routing/match.js';
import type { ServerEndpoint } from '../store/store.js';
import { type Destination, UNRESOLVED } from '../telemetry/metrics.js';

export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** URL path without query. */
  readonly path: string;
  /** Gateway API mode: the listener that received the request; undefined on the router's plain port. */
  readonly scope: GatewayScope | undefined;
  /** Aborted when the client goes away before the response ended. */
  readonly signal: AbortSignal;
  /** Monotonic ms at arrival, and the wall clock for the access log. */
  readonly startedAt: number;
  readonly startWall: Date;
  readonly requestId: string;

  // parse
  /** The client's `model`, once the body parsed. */
  model?: string;
  /** `model` when some route serves it, else 'unknown' (bounded metric labels). */
  modelLabel: string;
  /** The active-downstream gauge was raised (lowered again in account). */
  downstreamCounted: boolean;
  ctx?: RequestContext;

  // route
  match?: RouteMatch;
  /** Inference Extension mode: the InferencePool that serves the request when no ModelRoute does. */
  pool?: PoolTarget;
  /** Metric labels of where the request went; refined by route and by each backend. */
  dest: Destination;
  /** Gateway API mode: the Gateway that received the request, and the HTTPRoute/InferencePool that served it. */
  gateway?: { gateway: string; http_route?: string; inference_pool?: string };

  // admit
  admitted: boolean;
  /** Run once, in reverse, on the terminal path. */
  releases: Release[];

  // schedule + forward (any backend)
  /** The endpoint the scheduler ranked first (the access log's pod when no attempt answered). */
  selected?: ServerEndpoint;
  schedDoneAt?: number;
  /** What the backend's attempts produced: status, usage, timings, every attempt. */
  result?: ProxyResult;
  /** Set when a fallback provider served the request instead of the in-cluster target. */
  fallback?: { reason: string; from: string };

  // terminal
  /** The router's own error, sent to the client (unless it left) and accounted. */
  error?: RouterError;
}

export function newExchange(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  scope: GatewayScope | undefined,
  signal: AbortSignal,
  requestId: string,
): Exchange {
  return {
    req,
    res,
    path,
    scope,
    signal,
    startedAt: performance.now(),
    startWall: new Date(),
    requestId,
    modelLabel: 'unknown',
    downstreamCounted: false,
    dest: UNRESOLVED,
    gateway: scope ? { gateway: scope.gateway } : undefined,
    admitted: false,
    releases: [],
  };
}

export function headerValue(v: string | string[] | undefined): string {
  if (v === undefined) return '';
  return Array.isArray(v) ? v.join(',') : v;
}
