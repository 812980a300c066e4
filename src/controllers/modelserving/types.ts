// The shapes the ModelServing controller works on. The ModelServing API itself comes from src/api (the TypeBox
// schema is the single source); this module only narrows it where the controller needs a sharper view:
//  - pod templates are core/v1 PodTemplateSpecs (kubernetes-types), because they are copied into the Pods the
//    controller creates — src/api models just the pod fields Kthena validates and keeps the rest as written;
//  - metadata is core ObjectMeta with a required name (every stored object has one);
//  - status phases are the controller's enums (the API declares them as strings, which they are on the wire).
// Volcano's PodGroup is not part of our API; its shape is declared here with the fields we own.
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec as CorePodTemplateSpec, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type * as api from '../../api/index.js';

export type { ControllerRevision, Pod, PodDisruptionBudget, Service };

export type IntOrString = number | string;
export type RecoveryPolicy = api.RecoveryPolicy;
export type RolloutType = api.RolloutStrategyType;
/** api.PluginSpec; `type` is read as any string, since an object from a server without our schema may carry others. */
export type PluginSpec = Omit<api.PluginSpec, 'type'> & { type?: string };
export type NetworkTopologySpec = api.NetworkTopologySpec;

export type PodTemplateSpec = CorePodTemplateSpec;

/** api.Role with core/v1 pod templates; workerReplicas may be absent before defaulting (read as 0). */
export type Role = Omit<api.Role, 'entryTemplate' | 'workerTemplate' | 'workerReplicas'> & {
  entryTemplate: PodTemplateSpec;
  workerTemplate?: PodTemplateSpec;
  workerReplicas?: number;
};

export type ServingGroupTemplate = Omit<api.ServingGroup, 'roles'> & { roles: Role[] };

export type ModelServingSpec = Omit<api.ModelServingSpec, 'template' | 'plugins'> & {
  template: ServingGroupTemplate;
  plugins?: PluginSpec[];
};

export type Condition = api.Condition & { lastTransitionTime: string };

export type GroupPhase = 'Creating' | 'Running' | 'Scaling' | 'Deleting';
export type InstancePhase = 'Creating' | 'Running' | 'Deleting' | 'Failed';

type ApiGroupStatus = NonNullable<api.ModelServingStatus['servingGroups']>[number];
/** Beyond upstream: where each role instance stands (`<role>-<r>`), and why it is not ready. */
export type RoleInstanceStatus = Omit<ApiGroupStatus['roles'][number], 'phase'> & { phase: InstancePhase };
/** Beyond upstream: a group's phase, revision, restart bookkeeping and role instances. */
export type ServingGroupStatus = Omit<ApiGroupStatus, 'phase' | 'roles'> & {
  phase: GroupPhase;
  roles: RoleInstanceStatus[];
};

export type ModelServingStatus = Omit<api.ModelServingStatus, 'conditions' | 'servingGroups'> & {
  conditions?: Condition[];
  servingGroups?: ServingGroupStatus[];
};

export type ModelServing = Omit<api.ModelServing, 'metadata' | 'spec' | 'status' | 'apiVersion' | 'kind'> & {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta & { name: string; namespace?: string };
  spec: ModelServingSpec;
  status?: ModelServingStatus;
};

/** Volcano PodGroup (scheduling.volcano.sh/v1beta1), only the fields we own. */
export interface PodGroup {
  apiVersion: 'scheduling.volcano.sh/v1beta1';
  kind: 'PodGroup';
  metadata: ObjectMeta & { name: string };
  spec: PodGroupSpec;
  status?: unknown;
}

export interface SubGroupPolicy {
  name: string;
  labelSelector: { matchLabels: Record<string, string> };
  matchLabelKeys: string[];
  subGroupSize: number;
  minSubGroups: number;
  networkTopology?: NetworkTopologySpec;
}

export interface PodGroupSpec {
  minMember: number;
  minResources?: Record<string, string>;
  queue?: string;
  networkTopology?: NetworkTopologySpec;
  subGroupPolicy?: SubGroupPolicy[];
}
