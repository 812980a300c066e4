// Everything one booster should own, complete: the generated objects with upstream's labels, revision hashes and
// a controlling ownerReference (so deletion cascades). Pure: booster + images → children.
import { hashObject } from '../modelserving/revision.js';
import { autoscalingPolicyFor } from './autoscaling.js';
import {
  BOOSTER_KIND,
  type BoosterImages,
  LABEL_BACKEND_NAME,
  LABEL_MANAGED_BY,
  LABEL_MODEL_NAME,
  LABEL_MODEL_UID,
  LABEL_REVISION,
  MANAGED_BY,
  WORKLOAD_API,
} from './naming.js';
import { modelRouteFor, modelServerFor } from './network.js';
import { modelServingFor } from './serving.js';
import type { Child, ModelBooster } from './types.js';

export interface BoosterChildren {
  modelServing: Child;
  modelServer: Child;
  modelRoute: Child;
  /** beyond upstream: only when the booster asks for autoscaling */
  autoscalingPolicy?: Child;
}

/** The labels of the booster's pods and children (without revision: a replica change must not roll pods). */
export function boosterLabels(mb: ModelBooster, backend: string): Record<string, string> {
  return {
    [LABEL_MODEL_NAME]: mb.metadata.name,
    [LABEL_BACKEND_NAME]: backend,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_MODEL_UID]: mb.metadata.uid ?? '',
  };
}

function own(mb: ModelBooster, child: Child, backend: string, revisionOf: unknown): Child {
  child.metadata.labels = { ...boosterLabels(mb, backend), [LABEL_REVISION]: hashObject(revisionOf) };
  child.metadata.ownerReferences = [
    {
      apiVersion: mb.apiVersion ?? WORKLOAD_API,
      kind: BOOSTER_KIND,
      name: mb.metadata.name,
      uid: mb.metadata.uid ?? '',
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
  return child;
}

export function generateChildren(mb: ModelBooster, images: BoosterImages): BoosterChildren {
  const backend = mb.spec.backend.name;
  const serving = modelServingFor({ booster: mb, images, podLabels: boosterLabels(mb, backend) }) as unknown as Child;
  const server = modelServerFor(mb);
  const route = modelRouteFor(mb);
  const policy = autoscalingPolicyFor(mb);
  return {
    // upstream hashes spec.backend for the ModelServing; we add the images, so a new runtime image rolls pods too
    modelServing: own(mb, serving, backend, { backend: mb.spec.backend, images }),
    modelServer: own(mb, server, backend, server.spec),
    modelRoute: own(mb, route, '', route.spec),
    ...(policy ? { autoscalingPolicy: own(mb, policy, backend, policy.spec) } : {}),
  };
}
