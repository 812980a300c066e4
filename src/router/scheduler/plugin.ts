// The scheduler plugin contract. Each plugin lives in its own file under plugins/ and implements any subset of hooks.
import type { AttemptRecord } from '../proxy/forward.js';
import type { RequestContext, ResponseOutcome } from '../request/context.js';
import type { EndpointState } from '../store/endpoint-state.js';
import type { ServerEndpoint } from '../store/store.js';
import type { RouterMetrics } from '../telemetry/metrics.js';

export interface SchedulerPlugin {
  readonly name: string;
  /** Runs once per request before filters (e.g. sync shared counters, tokenize). */
  preSchedule?(ctx: RequestContext, endpoints: readonly ServerEndpoint[]): void | Promise<void>;
  /** Keeps a subset. Returning an empty list fails scheduling with this plugin's name. */
  filter?(ctx: RequestContext, endpoints: readonly ServerEndpoint[]): ServerEndpoint[];
  /** One score per endpoint, same order, expected in [0, 100]; NaN/undefined entries count as 0. */
  score?(ctx: RequestContext, endpoints: readonly ServerEndpoint[]): ArrayLike<number>;
  /** An attempt is about to be sent to `ep` (once per failover attempt); `cancel` aborts it before its first byte. */
  onDispatch?(ctx: RequestContext, ep: ServerEndpoint, cancel?: () => void): void;
  /** That attempt's outcome is known (response headers + first byte, or its failure); between onDispatch and onRelease or right after it. */
  onAttempt?(ctx: RequestContext, ep: ServerEndpoint, rec: AttemptRecord): void;
  /** That attempt ended (any outcome); pairs with onDispatch. */
  onRelease?(ctx: RequestContext, ep: ServerEndpoint): void;
  /** After the first byte of a successful response from `chosen`. */
  postSchedule?(ctx: RequestContext, chosen: ServerEndpoint): void;
  /** Once per request on its terminal path (success, error, timeout, client abort). */
  onResponseDone?(ctx: RequestContext, outcome: ResponseOutcome): void;
  /** The endpoint entered the store (also called for the endpoints present when the router starts). */
  onEndpointAdded?(state: EndpointState): void;
  /** The endpoint left the store; drop anything kept for it. */
  onEndpointRemoved?(state: EndpointState): void;
  /** The router is shutting down: release sockets and timers. */
  close?(): void;
  /** Extra state shown by the debug server. */
  debugState?(): unknown;
}

/**
 * The router's time source for decision code (milliseconds, monotonic). Plugins read time and start periodic work only
 * through it, so the scheduling path runs unchanged on a virtual clock (src/twin, tests); default: the process clock.
 */
export interface RouterClock {
  now(): number;
  setInterval(fn: () => void, ms: number): { unref?(): void } | number;
  clearInterval(h: unknown): void;
}

export const processClock: RouterClock = {
  now: () => performance.now(),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/**
 * Where the precise KV index gets the engines' KV events: 'subscribe' (default) opens a ZMQ subscription per endpoint;
 * 'fed' leaves it to the caller, who hands encoded batches to `applyKvMessage` (the twin, tests).
 */
export type KvEventSource = 'subscribe' | 'fed';

export interface PluginDeps {
  metrics: RouterMetrics;
  /** Uniform [0, 1); injectable for deterministic tests. */
  rand: () => number;
  /** Default processClock. */
  clock?: RouterClock;
  /** Default 'subscribe'. */
  kvEvents?: KvEventSource;
}

export type PluginArgs = Record<string, unknown>;

export interface PluginDefinition {
  name: string;
  /** Which plugin-list sections may name it. */
  roles: ReadonlyArray<'filter' | 'score'>;
  create(args: PluginArgs, deps: PluginDeps): SchedulerPlugin | Promise<SchedulerPlugin>;
}

/** Reads a positive number argument; missing, non-numeric or ≤ 0 falls back to the default (upstream behaviour). */
export function positiveArg(args: PluginArgs, key: string, fallback: number): number {
  const v = Number(args[key]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
