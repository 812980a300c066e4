// What the request handler needs to know about the Gateway listener that received a request (Gateway API mode).
import type { ModelRoute } from '../store/resources.js';

/** An HTTPRoute rule resolved to an InferencePool (served like a ModelServer synthesized from the pool). */
export interface PoolTarget {
  /** Store key of the pool's synthesized ModelServer. */
  serverKey: string;
  httpRoute: string;
  inferencePool: string;
}

export interface GatewayScope {
  /** namespace/name of the Gateway, for the access log. */
  gateway: string;
  /** Which ModelRoutes this listener serves (parentRefs, reference §2.3). */
  binds: (route: ModelRoute) => boolean;
  /**
   * Inference Extension mode: the HTTPRoute → InferencePool target when no ModelRoute serves the request; undefined
   * when no HTTPRoute matches. Throws a RouterError for the pool cases (no backend, pool missing, no pods, no port).
   */
  inferencePool?: () => PoolTarget | undefined;
}
