// The API groups, versions and kinds Kthena serves, in one table the CRD generator, the validator, the
// clients and the CLI all read.
import {
  API_VERSION_NETWORKING,
  ExternalModelProviderSchema,
  ModelRouteSchema,
  ModelServerSchema,
} from './networking.js';
import './descriptions.js'; // attaches descriptions to the schemas before anything reads them
import type { JsonSchema } from './schema-check.js';
import { API_VERSION_WORKLOAD, AutoscalingPolicySchema, ModelBoosterSchema, ModelServingSchema } from './workload.js';

export const NETWORKING_GROUP = 'networking.serving.volcano.sh';
export const WORKLOAD_GROUP = 'workload.serving.volcano.sh';
export const VERSION_V1ALPHA1 = 'v1alpha1';
export { API_VERSION_NETWORKING, API_VERSION_WORKLOAD };

export type KthenaKind =
  | 'ModelRoute'
  | 'ModelServer'
  | 'ExternalModelProvider'
  | 'ModelServing'
  | 'ModelBooster'
  | 'AutoscalingPolicy';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface KindInfo {
  kind: KthenaKind;
  group: string;
  version: string;
  apiVersion: string;
  plural: string;
  singular: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** The TypeBox schema of the whole object (apiVersion, kind, metadata, spec, status). */
  schema: JsonSchema;
  /** `scale` subresource paths, for kinds HPA/KEDA can drive. */
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  printerColumns: PrinterColumn[];
  description: string;
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

function info(
  kind: KthenaKind,
  group: string,
  plural: string,
  schema: JsonSchema,
  description: string,
  extra: Partial<KindInfo> = {},
): KindInfo {
  return {
    kind,
    group,
    version: VERSION_V1ALPHA1,
    apiVersion: `${group}/${VERSION_V1ALPHA1}`,
    plural,
    singular: kind.toLowerCase(),
    listKind: `${kind}List`,
    namespaced: true,
    shortNames: [],
    categories: ['kthena'],
    schema,
    printerColumns: [AGE],
    description,
    ...extra,
  };
}

export const KINDS: Record<KthenaKind, KindInfo> = {
  ModelRoute: info(
    'ModelRoute',
    NETWORKING_GROUP,
    'modelroutes',
    ModelRouteSchema,
    'Maps the model name of an inference request to ModelServers or external providers, with rules, weights and rate limits.',
  ),
  ModelServer: info(
    'ModelServer',
    NETWORKING_GROUP,
    'modelservers',
    ModelServerSchema,
    'A set of inference pods (selected by labels) serving one model with one engine, optionally split into prefill/decode groups.',
    {
      printerColumns: [
        { name: 'Engine', type: 'string', jsonPath: '.spec.inferenceEngine' },
        { name: 'Port', type: 'integer', jsonPath: '.spec.workloadPort.port' },
        { name: 'Protocol', type: 'string', jsonPath: '.spec.workloadPort.protocol' },
        AGE,
      ],
    },
  ),
  ExternalModelProvider: info(
    'ExternalModelProvider',
    NETWORKING_GROUP,
    'externalmodelproviders',
    ExternalModelProviderSchema,
    'A model served outside the cluster over HTTPS (OpenAI- or Anthropic-compatible), usable as a ModelRoute target.',
    {
      printerColumns: [
        { name: 'Provider', type: 'string', jsonPath: '.spec.providerType' },
        { name: 'Ready', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
        AGE,
      ],
    },
  ),
  ModelServing: info(
    'ModelServing',
    WORKLOAD_GROUP,
    'modelservings',
    ModelServingSchema,
    'Runs replicas of a serving group: roles (e.g. prefill and decode), each an entry pod plus workers, with gang scheduling and rolling updates.',
    {
      scale: {
        specReplicasPath: '.spec.replicas',
        statusReplicasPath: '.status.replicas',
        labelSelectorPath: '.status.labelSelector',
      },
      printerColumns: [
        { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas' },
        { name: 'Available', type: 'integer', jsonPath: '.status.availableReplicas' },
        { name: 'Updated', type: 'integer', jsonPath: '.status.updatedReplicas' },
        AGE,
      ],
    },
  ),
  ModelBooster: info(
    'ModelBooster',
    WORKLOAD_GROUP,
    'modelboosters',
    ModelBoosterSchema,
    'One-stop model deployment: generates the ModelServing, ModelServer and ModelRoute for a model and engine.',
    {
      printerColumns: [
        { name: 'Active', type: 'string', jsonPath: ".status.conditions[?(@.type=='Active')].status" },
        AGE,
      ],
    },
  ),
  AutoscalingPolicy: info(
    'AutoscalingPolicy',
    WORKLOAD_GROUP,
    'autoscalingpolicies',
    AutoscalingPolicySchema,
    'Scales ModelServings (homogeneous), several ModelServings by cost (heterogeneous), or prefill/decode roles (disaggregated) on metrics.',
  ),
};

export const KIND_NAMES = Object.keys(KINDS) as KthenaKind[];

/** The KindInfo for an apiVersion/kind pair of ours, or undefined. */
export function lookupKind(apiVersion: unknown, kind: unknown): KindInfo | undefined {
  if (typeof kind !== 'string' || !Object.hasOwn(KINDS, kind)) return undefined;
  const k = KINDS[kind as KthenaKind];
  return k.apiVersion === apiVersion ? k : undefined;
}
