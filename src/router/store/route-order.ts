// The order of the routes that serve one model (the store's view keeps each list sorted; route matching walks it).
import type { ModelRoute } from './resources.js';

/** Upstream's route order: oldest creationTimestamp, then resourceVersion, then namespace/name. */
export function compareRouteAge(a: ModelRoute, b: ModelRoute): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) {
    const da = Date.parse(ta);
    const db = Date.parse(tb);
    if (!Number.isNaN(da) && !Number.isNaN(db) && da !== db) return da - db;
    if (ta < tb) return -1;
    if (ta > tb) return 1;
  }
  const ra = a.metadata.resourceVersion ?? '';
  const rb = b.metadata.resourceVersion ?? '';
  if (ra !== rb) return ra < rb ? -1 : 1;
  const ka = `${a.metadata.namespace ?? 'default'}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? 'default'}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
