// The LeaderWorkerSet adapter's decisions, as pure functions: an LWS (leaderworkerset.x-k8s.io/v1) becomes a
// ModelServing of the same name that it owns — one role `default` whose entry pod is the LWS leader and whose
// workers are the LWS workers — and the ModelServing's status is written back onto the LWS. This is upstream's
// adapter (reference §2.13); the `lws-standard-labels` plugin gives the pods the labels LWS users select on.
import { withDefaults } from './api-compat.js';
import { API_VERSION, KIND } from './naming.js';
import { canonicalJson } from './revision.js';
import type { ModelServing, ModelServingSpec, PodTemplateSpec } from './types.js';

export const LWS_API_VERSION = 'leaderworkerset.x-k8s.io/v1';
export const LWS_KIND = 'LeaderWorkerSet';

export interface LeaderWorkerSet {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; deletionTimestamp?: string };
  spec?: {
    replicas?: number;
    leaderWorkerTemplate?: { size?: number; leaderTemplate?: PodTemplateSpec; workerTemplate?: PodTemplateSpec };
  };
  status?: { replicas?: number; readyReplicas?: number; [k: string]: unknown };
}

/** The ModelServing spec an LWS stands for (upstream's mapping). */
export function modelServingSpecFor(lws: LeaderWorkerSet): ModelServingSpec {
  const tpl = lws.spec?.leaderWorkerTemplate ?? {};
  const size = tpl.size ?? 1;
  const entry = tpl.leaderTemplate ?? tpl.workerTemplate ?? {};
  return {
    replicas: lws.spec?.replicas ?? 1,
    plugins: [{ name: 'lws-standard-labels', type: 'BuiltIn' }],
    template: {
      roles: [
        {
          name: 'default',
          replicas: 1,
          entryTemplate: structuredClone(entry),
          workerReplicas: Math.max(size - 1, 0),
          ...(tpl.workerTemplate ? { workerTemplate: structuredClone(tpl.workerTemplate) } : {}),
        },
      ],
    },
  };
}

export function modelServingFor(lws: LeaderWorkerSet): ModelServing {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name: lws.metadata.name,
      namespace: lws.metadata.namespace,
      ownerReferences: [
        {
          apiVersion: LWS_API_VERSION,
          kind: LWS_KIND,
          name: lws.metadata.name,
          uid: lws.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: modelServingSpecFor(lws),
  };
}

/** Is this ModelServing the one this LWS controls? (A same-named ModelServing of someone else is left alone.) */
export function ownedByLws(ms: ModelServing, lws: LeaderWorkerSet): boolean {
  return (ms.metadata.ownerReferences ?? []).some(
    (o) => o.kind === LWS_KIND && o.controller === true && (!lws.metadata.uid || o.uid === lws.metadata.uid),
  );
}

/** Do two specs mean the same once the CRD defaults are applied (the server adds them to the stored one)? */
export function sameServingSpec(a: ModelServing, b: ModelServing): boolean {
  const norm = (m: ModelServing) =>
    canonicalJson(withDefaults({ ...m, apiVersion: API_VERSION, kind: KIND, status: undefined }).spec);
  return norm(a) === norm(b);
}

export type LwsDecision =
  | { type: 'create'; object: ModelServing }
  | { type: 'update'; object: ModelServing }
  | { type: 'conflict'; message: string }
  | { type: 'none' };

/** What to do with the ModelServing of this LWS, given the one that exists (if any). */
export function decideModelServing(lws: LeaderWorkerSet, existing: ModelServing | undefined): LwsDecision {
  const desired = modelServingFor(lws);
  if (!existing) return { type: 'create', object: desired };
  if (!ownedByLws(existing, lws))
    return {
      type: 'conflict',
      message: `ModelServing ${existing.metadata.name} exists and is not owned by LeaderWorkerSet ${lws.metadata.name}`,
    };
  if (existing.metadata.deletionTimestamp || sameServingSpec(existing, desired)) return { type: 'none' };
  // replace the spec, keep the server's metadata (resourceVersion: a concurrent write conflicts and retries)
  return { type: 'update', object: { ...existing, apiVersion: API_VERSION, kind: KIND, spec: desired.spec } };
}

/** The LWS status upstream writes back, or undefined when it already says so. */
export function lwsStatusFor(
  lws: LeaderWorkerSet,
  ms: ModelServing | undefined,
): LeaderWorkerSet['status'] | undefined {
  if (!ms?.status) return undefined;
  const replicas = ms.status.replicas ?? 0;
  const readyReplicas = ms.status.availableReplicas ?? 0;
  if (lws.status?.replicas === replicas && lws.status?.readyReplicas === readyReplicas) return undefined;
  return { ...(lws.status ?? {}), replicas, readyReplicas };
}
