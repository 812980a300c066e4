// The description of one served resource type (built-in or from a CRD) and the per-kind
// behaviour hooks ("strategy", after apiserver's RESTCreateStrategy/RESTUpdateStrategy).
import type { StatusCause } from './errors.js';
import type { FieldGetters } from './selectors.js';
import type { NameRule, Obj } from './util.js';

export interface ScaleSpec {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

/** Turns objects into Table rows (server-side printing). */
export interface TableConvertor {
  columns(version: string): ColumnDefinition[];
  cells(obj: Obj, version: string, nowMs: number): unknown[];
}

export interface Strategy {
  /** metadata.generation is maintained (CRs, workloads); not Pods in 1.32. */
  tracksGeneration: boolean;
  /** PUT without metadata.resourceVersion is accepted (built-ins) or rejected with 422 (CRs). */
  allowUnconditionalUpdate: boolean;
  /** DELETE answers with the final object (Pods) instead of a Status. */
  returnDeletedObject: boolean;
  /** Strategic merge patch is accepted (built-in kinds only). */
  strategicMerge: boolean;
  nameRule: NameRule;
  fieldGetters: FieldGetters;
  /** Defaults and server-owned fields on create (mutates obj). */
  prepareCreate?(obj: Obj, ctx: StrategyContext): void;
  /** Kind-specific adjustments on update through the main endpoint (mutates obj). */
  prepareUpdate?(obj: Obj, old: Obj, ctx: StrategyContext): void;
  validate?(obj: Obj, old: Obj | undefined, ctx: StrategyContext): StatusCause[];
  /** status writes also accept label/annotation changes (pods/status in the kubelet's use). */
  statusKeepsMetadata?: boolean;
  /** Graceful deletion: the grace in seconds to apply, or 0 for immediate removal. */
  gracePeriod?(obj: Obj, requested: number | undefined): number;
  table?: TableConvertor;
  /** Known top-level fields besides apiVersion/kind/metadata (others are unknown → pruned / Strict 400). */
  topLevel?: string[];
}

export interface StrategyContext {
  nowMs: number;
  /** Looks up another stored object (e.g. a CRD name conflict check). */
  lookup(group: string, plural: string, namespace: string, name: string): Obj | undefined;
}

export interface SubresourceInfo {
  name: string;
  kind: string;
  verbs: string[];
  group?: string;
  version?: string;
}

export interface ResourceType {
  group: string;
  /** Served versions, in discovery priority order. */
  versions: string[];
  storageVersion: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** Has a status subresource (status is separated from the main endpoint). */
  status: boolean;
  scale?: ScaleSpec;
  /** Subresources other than status/scale, for discovery and routing. */
  extraSubresources: SubresourceInfo[];
  builtin: boolean;
  strategy: Strategy;
  /** For custom resources: the CRD's per-version schema, columns and list-type hints. */
  crd?: CrdInfo;
}

export interface CrdInfo {
  name: string;
  uid: string;
  schemas: Record<string, Obj | undefined>;
  columns: Record<string, Obj[]>;
  deprecated: Record<string, string | undefined>;
  selectableFields: Record<string, string[]>;
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function resourceKey(t: { group: string; plural: string }): string {
  return `${t.group}/${t.plural}`;
}

export function groupVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}
