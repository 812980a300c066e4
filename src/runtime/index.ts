// The runtime sidecar room: `kthena runtime` beside an inference engine (health, standard metrics, LoRA forwarding).
// It talks to the engine over HTTP only; it imports nothing of the router, the engine simulator or the controllers.
export { type EngineFamily, engineFamily, normaliseMetrics, STANDARD_METRICS } from './metrics.js';
export { type RunningRuntime, type RuntimeOptions, startRuntime, validateRuntimeOptions } from './server.js';
