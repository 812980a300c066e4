// The plugin interface of the ModelServing controller (§2.10): hooks that see a pod before it is created
// and when it first becomes ready.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ModelServing } from '../types.js';

export interface PodHookRequest {
  ms: ModelServing;
  groupName: string;
  roleName: string;
  roleId: string;
  isEntry: boolean;
  /** OnPodCreate may mutate this in place */
  pod: Pod;
}

export interface ModelServingPlugin {
  readonly name: string;
  onPodCreate?(req: PodHookRequest): void;
  onPodReady?(req: PodHookRequest): void;
}

/** Builds a plugin instance from the `config` of its PluginSpec; throws a clear error on a bad config. */
export type PluginFactory = (name: string, config: unknown) => ModelServingPlugin;
