// ReferenceGrant (gateway.networking.k8s.io/v1beta1): a reference from a route to a backend in another namespace is
// allowed only when a ReferenceGrant in the backend's namespace names the route's group, kind and namespace in
// `from` and the backend's group, kind (and name, when it gives one) in `to`. Same-namespace references need none.
// Pure: the informer lives in inference-extension.ts.
import type { ResourceRef } from '../../kube/index.js';

export const REFERENCE_GRANTS: ResourceRef = {
  group: 'gateway.networking.k8s.io',
  version: 'v1beta1',
  plural: 'referencegrants',
  kind: 'ReferenceGrant',
  namespaced: true,
};

export interface ReferenceGrant {
  metadata: { namespace?: string; name: string };
  spec?: {
    from?: { group?: string; kind?: string; namespace?: string }[];
    to?: { group?: string; kind?: string; name?: string }[];
  };
}

export interface RefEnd {
  group: string;
  kind: string;
  namespace: string;
}

/** Whether `from` may refer to `to` (named `toName`) given the ReferenceGrants that exist. */
export function referencePermitted(
  grants: readonly ReferenceGrant[],
  from: RefEnd,
  to: RefEnd & { name: string },
): boolean {
  if (from.namespace === to.namespace) return true;
  return grants.some(
    (g) =>
      (g.metadata.namespace ?? 'default') === to.namespace &&
      (g.spec?.from ?? []).some(
        (f) => (f.group ?? '') === from.group && f.kind === from.kind && f.namespace === from.namespace,
      ) &&
      (g.spec?.to ?? []).some(
        (t) =>
          (t.group ?? '') === to.group &&
          t.kind === to.kind &&
          (t.name === undefined || t.name === '' || t.name === to.name),
      ),
  );
}
