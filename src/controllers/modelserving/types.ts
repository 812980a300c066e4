// The shapes the ModelServing controller works on, with upstream's wire names
// (workload.serving.volcano.sh/v1alpha1). These are structural: any object with these fields
// (the TypeBox-derived types of src/api included) can be passed in.
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { Pod, PodSpec, Service } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';

export type { ControllerRevision, Pod, PodDisruptionBudget, Service };

export type IntOrString = number | string;

export interface PodTemplateSpec {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: PodSpec;
}

export interface Role {
  name: string;
  replicas?: number;
  entryTemplate: PodTemplateSpec;
  workerReplicas?: number;
  workerTemplate?: PodTemplateSpec;
  maxUnavailable?: IntOrString;
  partition?: IntOrString;
}

export interface NetworkTopologySpec {
  mode?: 'hard' | 'soft';
  highestTierAllowed?: number;
  highestTierName?: string;
}

export interface ServingGroupTemplate {
  restartGracePeriodSeconds?: number;
  gangPolicy?: { minRoleReplicas?: Record<string, number> };
  networkTopology?: { groupPolicy?: NetworkTopologySpec; rolePolicy?: NetworkTopologySpec };
  roles: Role[];
}

export interface PluginSpec {
  name: string;
  type?: 'BuiltIn' | string;
  config?: unknown;
  scope?: { roles?: string[]; target?: 'All' | 'Entry' | 'Worker' | '' };
}

export type RolloutType = 'ServingGroupRollingUpdate' | 'RoleRollingUpdate';
export type RecoveryPolicy = 'ServingGroupRecreate' | 'RoleRecreate' | 'None';

export interface ModelServingSpec {
  replicas?: number;
  schedulerName?: string;
  plugins?: PluginSpec[];
  template: ServingGroupTemplate;
  rolloutStrategy?: {
    type?: RolloutType;
    rollingUpdateConfiguration?: { maxUnavailable?: IntOrString; partition?: IntOrString };
  };
  recoveryPolicy?: RecoveryPolicy;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** Beyond upstream: where each group and role instance stands, so `kubectl get -o yaml` says what is not ready. */
export interface RoleInstanceStatus {
  /** `<role>-<r>` */
  name: string;
  role: string;
  phase: InstancePhase;
  readyPods: number;
  pods: number;
  revision: string;
  /** Why the instance is not ready, e.g. "pod x-0-prefill-0-1: ContainersNotReady (CrashLoopBackOff)". */
  reason?: string;
}

export interface ServingGroupStatus {
  name: string;
  phase: GroupPhase;
  revision: string;
  /** Times this group (or a role instance of it) was recreated by the recovery policy since it last stayed healthy. */
  restarts?: number;
  lastRestartTime?: string;
  roles: RoleInstanceStatus[];
}

export interface ModelServingStatus {
  observedGeneration?: number;
  replicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  labelSelector?: string;
  conditions?: Condition[];
  servingGroups?: ServingGroupStatus[];
}

export interface ModelServing {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta & { name: string; namespace?: string };
  spec: ModelServingSpec;
  status?: ModelServingStatus;
}

export type GroupPhase = 'Creating' | 'Running' | 'Scaling' | 'Deleting';
export type InstancePhase = 'Creating' | 'Running' | 'Deleting' | 'Failed';

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
